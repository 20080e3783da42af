import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { selectCursors } from "../../store/notification-cursors-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { fanOutPeople } from "./people.ts";
import { latestSeq } from "./stream-batch.ts";
import { emit } from "./testing.ts";

// A tenant with no users has nobody to tell: the people channel moves its
// cursor to the stream's end in one round without reading the events (as
// `bench` tenants run), and an idle round after it takes nothing.

let db: Database;
let ctx: ServiceContext;

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => {
  await db.close();
});

describe("fanOutPeople", () => {
  it("skips to the stream's end when the tenant has no user, whatever the batch size", async () => {
    const tenant = await newTestTenant(ctx, "people-none");
    const events = Array.from({ length: 5 }, (_, i) => ({
      type: "order.booked" as const,
      party_ids: ["m-a"],
      payload: { order_id: `o-${i}` },
    }));
    await emit(ctx, tenant, events);
    const latest = await latestSeq(db, tenant);
    expect(latest).toBeGreaterThanOrEqual(5n);
    const taken = await inTransaction(db, (tx) => fanOutPeople(tx, tenant, ctx.now(), 2));
    expect(taken).toBe(Number(latest));
    const [cursor] = await selectCursors(db, tenant);
    expect(cursor?.channel).toBe("people");
    expect(BigInt(cursor!.last_seq)).toBe(latest);
    const [items] = await db.query<{ n: number }>(
      "SELECT count(*)::int4 AS n FROM inbox_items WHERE tenant_id = $1",
      [tenant],
    );
    expect(items?.n).toBe(0);
    expect(await inTransaction(db, (tx) => fanOutPeople(tx, tenant, ctx.now(), 2))).toBe(0);
  });
});
