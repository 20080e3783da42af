import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

// The database's CPU per webhook delivery for the two statements a delivery
// costs whatever the network does: the fan-out that makes it and the record of
// a successful first attempt (decisions §39). No HTTP: the deliveries are
// recorded as answered 204. The CPU is the PostgreSQL client backends' run time
// from /proc/<pid>/schedstat (nanoseconds, unlike the 10 ms ticks of
// /proc/<pid>/stat), so a few seconds of work give a figure that other load on
// the machine moves little. Two trees compare with `--root`, as in cpu-per-order.ts:
//
//   DATABASE_URL=postgres://... npx tsx src/bench/webhook-db-cost.ts --root ../other-checkout --deliveries 20000
//
// Linux only. Not a test: it prints figures and asserts nothing about them.

const { values } = parseArgs({
  options: {
    root: { type: "string" },
    deliveries: { type: "string", default: "20000" },
  },
});
const root = resolve(values.root ?? new URL("../..", import.meta.url).pathname);
const deliveries_total = Number(values.deliveries);
/** Events per fan-out transaction and deliveries per record, as the dispatcher and the sender take them. */
const events_per_fan_out = 1_000;
const deliveries_per_record = 256;
if (!process.env.DATABASE_URL) throw new Error("webhook-db-cost needs DATABASE_URL (PostgreSQL)");
if (!Number.isInteger(deliveries_total) || deliveries_total < events_per_fan_out)
  throw new Error(`--deliveries is an integer of at least ${events_per_fan_out}`);

const load = (path: string) => import(`${root}/${path}`);
const { createBenchDatabase } = await load("src/bench/bench-database.ts");
const { newTestTenant } = await load("src/testing/db.ts");
const { createParty } = await load("src/service/ledger/accounts.ts");
const { createEndpoint } = await load("src/service/notifications/endpoints.ts");
const { emit, principal } = await load("src/service/notifications/testing.ts");
const { fanOutWebhooks } = await load("src/service/notifications/webhook-fanout.ts");
const { recordAttempts } = await load("src/service/notifications/webhook-record.ts");
const { inTransaction } = await load("src/store/retry.ts");

/** Nanoseconds the process has run on a CPU; 0 once it is gone. */
function runNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
}

process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
const bench = await createBenchDatabase("pg", process.env.DATABASE_URL);
try {
  const db = bench.db;
  const ctx = { db, now: () => new Date() };
  const tenant_id = await newTestTenant(ctx, "whcost");
  await createParty(ctx, tenant_id, { id: "m-a", kind: "merchant", name: "m-a" });
  // Never posted to: the deliveries are recorded as answered without a request.
  await createEndpoint(ctx, principal(tenant_id, "platform_admin"), {
    url: "http://127.0.0.1:9/hooks",
    event_types: ["order.booked"],
  });
  // About the size of a booked order's event.
  const event = (index: number) => ({
    type: "order.booked",
    party_ids: ["m-a"],
    payload: { order_id: `o-${index}`, merchant_id: "m-a", currency: "CNY", detail: "x".repeat(600) },
  });
  for (let start = 0; start < deliveries_total; start += events_per_fan_out)
    await emit(
      ctx,
      tenant_id,
      Array.from({ length: events_per_fan_out }, (_, index) => event(start + index)),
    );
  const backendPids = async (): Promise<number[]> =>
    (
      await db.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
      )
    ).map((row: { pid: number }) => row.pid);
  const measure = async (name: string, work: () => Promise<number>): Promise<void> => {
    const before = (await backendPids()).reduce((sum, pid) => sum + runNs(pid), 0);
    const count = await work();
    const after = (await backendPids()).reduce((sum, pid) => sum + runNs(pid), 0);
    console.log(`${name.padEnd(8)} database ${((after - before) / 1_000 / count).toFixed(1)} µs/delivery`);
  };
  const leased: unknown[] = [];
  await measure("fan-out", async () => {
    for (;;) {
      const now = new Date();
      const made = await inTransaction(db, (tx: unknown) =>
        fanOutWebhooks(tx, tenant_id, now, new Date(now.getTime() + 600_000), events_per_fan_out),
      );
      leased.push(...made.leased);
      if (made.events < events_per_fan_out) return leased.length;
    }
  });
  await measure("record", async () => {
    for (let start = 0; start < leased.length; start += deliveries_per_record) {
      const batch = leased.slice(start, start + deliveries_per_record);
      const answered = batch.map(() => ({ status_code: 204, retry_after: null, latency_ms: 1, error: null }));
      const started_at = new Date();
      await inTransaction(db, (tx: unknown) =>
        recordAttempts(tx, tenant_id, batch, answered, started_at, new Date(), {
          retry_schedule_ms: [5_000],
        }),
      );
    }
    return leased.length;
  });
  console.log(`${leased.length} deliveries, code from ${root}`);
} finally {
  await bench.drop();
}
