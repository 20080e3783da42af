import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, Queryable } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { type EventInput, enqueueEvents as enqueueTyped } from "./event-enqueue.ts";

/** The sequencer numbers whatever is stored: these tests use made-up type names on purpose. */
const enqueueEvents = (
  tx: Queryable,
  tenant: string,
  events: { type: string; party_ids: string[]; payload: unknown }[],
  now: Date,
) => enqueueTyped(tx, tenant, events as EventInput[], now);

import { sequenceEventsOnce, sequenceTenantEvents } from "./event-sequencer.ts";

let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => db.close());

async function seqs(tenant_id: string): Promise<{ type: string; seq: bigint | null }[]> {
  return db.query(
    `SELECT e.type, s.seq FROM events e
       LEFT JOIN event_seqs s ON s.tenant_id = e.tenant_id AND s.event_id = e.id
      WHERE e.tenant_id = $1 ORDER BY s.seq NULLS LAST, e.type`,
    [tenant_id],
  );
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

  // Proves the cursor neither skips nor repeats an event when a batch stops
  // inside a transaction's events and more transactions commit between rounds.
  it("numbers every event exactly once, in (xid, id) order, across batches cut anywhere", async () => {
    const tenant = await newTestTenant(ctx, "seq");
    const written: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (const size of [3, 2]) {
        const types = Array.from({ length: size }, (_, i) => `r${round}.${size}.${i}`);
        await db.transaction((tx) =>
          enqueueEvents(
            tx,
            tenant,
            types.map((type) => ({ type, party_ids: [], payload: {} })),
            new Date(),
          ),
        );
        written.push(...types);
      }
      const batch_max = 1 + (round % 3);
      const count = await db.transaction((tx) => sequenceTenantEvents(tx, tenant, batch_max));
      expect(count).toBeLessThanOrEqual(batch_max);
    }
    await sequenceUntil(tenant, written.length);
    expect(await db.transaction((tx) => sequenceTenantEvents(tx, tenant))).toBe(0);
    const numbered = await seqs(tenant);
    // Events of one transaction share an xid and go by id (UUIDv7: creation order).
    expect(numbered.map((row) => row.type)).toEqual(written);
    expect(numbered.map((row) => row.seq)).toEqual(written.map((_, i) => BigInt(i + 1)));
  });

  // Proves events and their numbers cannot be rewritten: a renumbered stream would skip events for resuming readers.
  it("keeps events and their seqs append-only", async () => {
    const tenant = await newTestTenant(ctx, "seq");
    await db.transaction((tx) =>
      enqueueEvents(tx, tenant, [{ type: "x", party_ids: [], payload: {} }], new Date()),
    );
    await sequenceUntil(tenant, 1);
    for (const sql of [
      "UPDATE events SET payload = '{}' WHERE tenant_id = $1",
      "DELETE FROM events WHERE tenant_id = $1",
      "UPDATE event_seqs SET seq = seq + 1 WHERE tenant_id = $1",
      "DELETE FROM event_seqs WHERE tenant_id = $1",
    ]) {
      await expect(db.query(sql, [tenant])).rejects.toThrow(/not allowed/);
    }
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
      for (let round = 0; round < 5; round++) {
        // More commits between rounds, all after the open transaction's xid.
        await db.transaction((tx) =>
          enqueueEvents(tx, tenant, [{ type: `late${round}`, party_ids: [], payload: {} }], new Date()),
        );
        await sequenceEventsOnce(ctx);
      }
      expect((await seqs(tenant)).every((row) => row.seq === null)).toBe(true);
      release();
      await slow;
      await sequenceUntil(tenant, 7);
      await sequenceEventsOnce(ctx);
      expect(await seqs(tenant)).toEqual(
        ["early", "late", "late0", "late1", "late2", "late3", "late4"].map((type, i) => ({
          type,
          seq: BigInt(i + 1),
        })),
      );
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
