// Sequencer throughput and proof latency on the configured database.
//   DATABASE_URL=postgres://… npx tsx src/service/tlog/log-sequencer.bench.ts [leaves]
// Queued records are synthetic rows (the sequencer reads only their hashes);
// proof bundles are fetched for real journal transactions through HTTP inject.
import { performance } from "node:perf_hooks";
import { buildApp } from "../../http/app.ts";
import { databaseTileFetcher } from "../../store/log-tree-sql.ts";
import { openDatabase } from "../../store/open.ts";
import { newTestTenant } from "../../testing/db.ts";
import { appendLeaves, hashLeaf, inclusionProofFromTiles } from "../../tlog/index.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { checkpointLagMs, leafInputOf, sequenceOnce } from "./log-sequencer.ts";
import { LogKeyStore } from "./signing-keys.ts";
import { bookSales, logFixture } from "./testing.ts";

const leaves = Number(process.argv[2] ?? 200_000);
const batch_max = 50_000;
const db = await openDatabase({ data_dir: null });
const ctx = { db, now: () => new Date() };
const keys = new LogKeyStore({ secret: "bench" });
const tenant = await newTestTenant(ctx, "bench");
await sequenceOnce(ctx, tenant, { keys });

for (let done = 0; done < leaves; done += batch_max) {
  await db.query(
    `INSERT INTO log_records (tenant_id, id, kind, salt, record_sha256, party_ids, created_at)
     SELECT $1, gen_random_uuid(), 'journal_transaction', decode(md5(i::text), 'hex'), sha256(i::text::bytea), '{}', now()
       FROM generate_series(1, $2::int) AS i`,
    [tenant, Math.min(batch_max, leaves - done)],
  );
}

// CPU only: the same hashing and appending the sequencer does, without I/O.
const hashes = Array.from({ length: batch_max }, (_, i) => {
  const sha = new Uint8Array(32);
  new DataView(sha.buffer).setUint32(0, i);
  return sha;
});
let started = performance.now();
appendLeaves(
  { size: 0n, edge: [] },
  hashes.map((sha) => hashLeaf(leafInputOf(sha))),
);
const cpu_per_s = batch_max / ((performance.now() - started) / 1000);

started = performance.now();
const cache = new Map();
let rounds = 0;
for (;;) {
  const result = await sequenceOnce(ctx, tenant, { keys, cache, batch_max });
  rounds++;
  if (result.status !== "checkpointed" || result.appended < batch_max) break;
}
const total_s = (performance.now() - started) / 1000;

// Proof latency: inclusion proof from stored tiles, and a whole bundle over HTTP.
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
// Another database's open transaction on the same server holds back pg_snapshot_xmin: retry.
while ((await checkpointLagMs(db, tenant)) > 0) {
  await sequenceOnce(ctx, tenant, { keys, cache });
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const [{ size }] = (await db.query<{ size: bigint }>(
  "SELECT max(size) AS size FROM log_checkpoints WHERE tenant_id = $1",
  [tenant],
)) as [{ size: bigint }];
const fetch = databaseTileFetcher(db, tenant);
const proof_ms: number[] = [];
for (let i = 0; i < 2000; i++) {
  const index = BigInt(Math.floor(Math.random() * Number(size)));
  const t = performance.now();
  await inclusionProofFromTiles(index, BigInt(size), fetch);
  proof_ms.push(performance.now() - t);
}
const app = await buildApp({ ctx });
const { key } = await createApiKey(ctx, tenant, { name: "m1", role: "merchant", party_id: "m1" });
const bundle_ms: number[] = [];
for (let i = 0; i < 2000; i++) {
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
console.log(
  JSON.stringify({
    backend: db.backend,
    leaves,
    rounds,
    sequencer_leaves_per_s: Math.round(leaves / total_s),
    sequencer_cpu_leaves_per_s: Math.round(cpu_per_s),
    tree_size: Number(size),
    inclusion_proof_ms: { p50: pct(proof_ms, 0.5), p99: pct(proof_ms, 0.99) },
    http_bundle_ms: { p50: pct(bundle_ms, 0.5), p99: pct(bundle_ms, 0.99) },
  }),
);
await db.close();
