// What one proof bundle costs, piece by piece, on the configured database: p50/p99 wall time and
// the Node process's CPU per call over 1,000 sequential calls (200 booked sales, sequenced).
//   [DATABASE_URL=postgres://…] npx tsx src/service/tlog/proof-cost.bench.ts
import { performance } from "node:perf_hooks";
import { buildApp } from "../../http/app.ts";
import { openDatabase } from "../../store/open.ts";
import { newTestTenant } from "../../testing/db.ts";
import { authenticateApiKey, createApiKey } from "../auth/api-keys.ts";
import { checkpointLagMs, sequenceOnce } from "./log-sequencer.ts";
import { proofBundle } from "./proofs.ts";
import { rebuildRecord } from "./record-rebuild.ts";
import { LogKeyStore } from "./signing-keys.ts";
import { bookSales, logFixture } from "./testing.ts";

const db = await openDatabase({ data_dir: null });
const ctx = { db, now: () => new Date() };
const keys = new LogKeyStore({ secret: "bench" });
const tenant = await newTestTenant(ctx, "ph");
const f = await logFixture(ctx, tenant);
const ids = await bookSales(
  ctx,
  f,
  Array.from({ length: 200 }, (_, i) => ({
    key: `p${i}`,
    merchant: "m1" as const,
    amount_minor: 1000n + BigInt(i),
  })),
);
do {
  await sequenceOnce(ctx, tenant, { keys });
} while ((await checkpointLagMs(db, tenant)) > 0);
const app = await buildApp({ ctx });
const { key } = await createApiKey(ctx, tenant, { name: "m1", role: "merchant", party_id: "m1" });
const n = 1000;
async function time(label: string, fn: (i: number) => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < 50; i++) await fn(i);
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu);
  ms.sort((a, b) => a - b);
  console.log(
    label.padEnd(20),
    "p50",
    ms[n / 2]!.toFixed(3),
    "p99",
    ms[Math.floor(n * 0.99)]!.toFixed(3),
    "cpu_us",
    ((used.user + used.system) / n).toFixed(0),
  );
}
await time("SELECT 1", () => db.query("SELECT 1"));
await time("auth", () => authenticateApiKey(db, key, new Date()));
await time("rebuild", (i) => rebuildRecord(db, tenant, "journal_transaction", ids[i % 200]!));
await time("proofBundle", (i) => proofBundle(ctx, tenant, ids[i % 200]!, { party_id: "m1" }));
await time("http bundle", (i) =>
  app.inject({ url: `/v1/records/${ids[i % 200]}/proof`, headers: { authorization: `Bearer ${key}` } }),
);
await time("http 404 tile", () => app.inject({ url: `/log/${tenant}/tile/0/x999/000` }));
await app.close();
await db.close();
