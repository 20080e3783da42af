import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "./enqueue.ts";
import { sequenceEventsOnce, sequenceTenantEvents } from "./sequencer.ts";

let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => db.close());

async function seqs(tenant_id: string): Promise<{ type: string; seq: bigint | null }[]> {
  return db.query("SELECT type, seq FROM events WHERE tenant_id = $1 ORDER BY seq NULLS LAST, type", [
    tenant_id,
  ]);
}

async function sequenceUntil(tenant_id: string, count: number): Promise<void> {
  // Other suites' open transactions on a shared server can hold the horizon back for a moment.
  const deadline = Date.now() + 10_000;
  while ((await seqs(tenant_id)).filter((row) => row.seq !== null).length < count) {
    if (Date.now() > deadline) throw new Error("events were not sequenced in time");
    await sequenceEventsOnce(ctx);
  }
}

describe("event sequencer", () => {
  it("numbers a tenant's events 1, 2, 3 … in commit order, once", async () => {
    const tenant = await newTestTenant(ctx, "seq");
    for (const type of ["a", "b", "c"])
      await db.transaction((tx) =>
        enqueueEvents(tx, tenant, [{ type, party_ids: [], payload: {} }], new Date()),
      );
    await sequenceUntil(tenant, 3);
    await sequenceEventsOnce(ctx);
    expect(await seqs(tenant)).toEqual([
      { type: "a", seq: 1n },
      { type: "b", seq: 2n },
      { type: "c", seq: 3n },
    ]);
  });

  it.runIf(process.env.DATABASE_URL)(
    "never numbers an event past an earlier transaction that has not committed yet (PostgreSQL: real concurrency)",
    async () => {
      const tenant = await newTestTenant(ctx, "seq");
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => {};
      const inserted = new Promise<void>((resolve) => {
        started = resolve;
      });
      const slow = db.transaction(async (tx) => {
        await enqueueEvents(tx, tenant, [{ type: "early", party_ids: [], payload: {} }], new Date());
        started();
        await held;
      });
      await inserted;
      await db.transaction((tx) =>
        enqueueEvents(tx, tenant, [{ type: "late", party_ids: [], payload: {} }], new Date()),
      );
      for (let round = 0; round < 5; round++) await sequenceEventsOnce(ctx);
      expect((await seqs(tenant)).every((row) => row.seq === null)).toBe(true);
      release();
      await slow;
      await sequenceUntil(tenant, 2);
      expect(await seqs(tenant)).toEqual([
        { type: "early", seq: 1n },
        { type: "late", seq: 2n },
      ]);
    },
  );

  it.runIf(process.env.DATABASE_URL)("lets one leader per tenant sequence at a time", async () => {
    const tenant = await newTestTenant(ctx, "seq");
    await db.transaction((tx) =>
      enqueueEvents(tx, tenant, [{ type: "x", party_ids: [], payload: {} }], new Date()),
    );
    const counts = await db.transaction(async (leader) => {
      const first = await sequenceTenantEvents(leader, tenant);
      const second = await db.transaction((other) => sequenceTenantEvents(other, tenant));
      return [first, second];
    });
    expect(counts[1]).toBe(0);
  });
});
