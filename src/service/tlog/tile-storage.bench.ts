// Tile storage before and after pruning, and the proof bundle's cost, on the configured database.
//   [DATABASE_URL=postgres://…] npx tsx src/service/tlog/tile-storage.bench.ts [records] [records_per_round]
// Queued records are synthetic rows (the sequencer reads only their hashes),
// sequenced in rounds of `records_per_round` as a busy tenant's 250 ms rounds
// would be; proof bundles are then fetched for real journal transactions
// through HTTP inject, counting the queries each one makes.
import { performance } from "node:perf_hooks";
import { buildApp } from "../../http/app.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { openDatabase } from "../../store/open.ts";
import { newTestTenant } from "../../testing/db.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { checkpointLagMs, sequenceOnce } from "./log-sequencer.ts";
import { LogKeyStore } from "./signing-keys.ts";
import { bookSales, logFixture } from "./testing.ts";
import { pruneTiles, tileStorage } from "./tile-pruning.ts";

const records = Number(process.argv[2] ?? 50_000);
const per_round = Number(process.argv[3] ?? 200);
const db = await openDatabase({ data_dir: null });
let queries = 0;
const counted: Database = new Proxy(db, {
  get(target, name, receiver) {
    if (name === "query")
      return (...args: Parameters<Queryable["query"]>) => {
        queries++;
        return target.query(...args);
      };
    return Reflect.get(target, name, receiver);
  },
});
const ctx = { db: counted, now: () => new Date() };
const keys = new LogKeyStore({ secret: "bench" });
const tenant = await newTestTenant(ctx, "bench");
const cache = new Map();

async function sequenceEverything(): Promise<void> {
  // Another database's open transaction on the same server holds back pg_snapshot_xmin: retry.
  do {
    await sequenceOnce(ctx, tenant, { keys, cache });
  } while ((await checkpointLagMs(db, tenant)) > 0);
}

await sequenceOnce(ctx, tenant, { keys, cache });
for (let done = 0; done < records; done += per_round) {
  await db.query(
    `INSERT INTO log_records (tenant_id, id, kind, salt, record_sha256, party_ids, created_at)
     SELECT $1, gen_random_uuid(), 'journal_transaction', decode(md5(i::text), 'hex'), sha256(i::text::bytea), '{}', now()
       FROM generate_series(1, $2::int) AS i`,
    [tenant, Math.min(per_round, records - done)],
  );
  await sequenceEverything();
}
const before = await tileStorage(db, tenant);
let passes = 0;
for (;;) {
  const result = await pruneTiles(db, tenant);
  if (result.status !== "pruned" || result.rows === 0) break;
  passes++;
}
const after = await tileStorage(db, tenant);

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
await sequenceEverything();
const app = await buildApp({ ctx });
const { key } = await createApiKey(ctx, tenant, { name: "m1", role: "merchant", party_id: "m1" });
const bundle_ms: number[] = [];
const requests = 2_000;
queries = 0;
for (let i = 0; i < requests; i++) {
  const t = performance.now();
  const response = await app.inject({
    url: `/v1/records/${ids[i % ids.length]}/proof`,
    headers: { authorization: `Bearer ${key}` },
  });
  bundle_ms.push(performance.now() - t);
  if (response.statusCode !== 200) throw new Error(response.body);
}
await app.close();
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length * p)]!.toFixed(2);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
console.log(
  JSON.stringify({
    backend: db.backend,
    records,
    records_per_round: per_round,
    checkpoints: Math.ceil(records / per_round) + 1,
    tiles_before: { rows: before.rows, mib: mib(before.bytes) },
    tiles_after: { rows: after.rows, mib: mib(after.bytes) },
    prune_passes: passes,
    http_bundle_ms: { p50: pct(bundle_ms, 0.5), p99: pct(bundle_ms, 0.99) },
    queries_per_bundle: (queries / requests).toFixed(1),
  }),
);
await db.close();
