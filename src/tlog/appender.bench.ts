// Sequencer throughput: the incremental tile appender against a naive baseline
// that recomputes the Merkle root from all leaves after every batch, on the
// same workload in the same run. Run: npx tsx src/tlog/appender.bench.ts
import { performance } from "node:perf_hooks";
import { assert } from "../core/assert.ts";
import { appendLeaves, type TreeEdge } from "./appender.ts";
import { MemoryTiledLog } from "./memory-log.ts";
import { inclusionProofFromTiles } from "./tile-proofs.ts";
import { hashChildren, hashLeaf } from "./tree-hash.ts";

const leaves_total = Number(process.env.BENCH_LEAVES ?? 1_000_000);
const baseline_leaves_total = 200_000;
const batch_leaves = 10_000;

function makeLeaves(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => hashLeaf(new TextEncoder().encode(`leaf ${i}`)));
}

// Bottom-up pairing, promoting a lone right node: equal to RFC 6962 MTH.
function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

function runAppender(leaves: Uint8Array[]): { seconds: number; root: Uint8Array; tiles: number } {
  let tree: TreeEdge = { size: 0n, edge: [] };
  let root: Uint8Array = new Uint8Array();
  let tiles = 0;
  const start = performance.now();
  for (let i = 0; i < leaves.length; i += batch_leaves) {
    const result = appendLeaves(tree, leaves.slice(i, i + batch_leaves));
    tree = { size: result.size, edge: result.edge };
    root = result.root;
    tiles += result.tiles.length;
  }
  return { seconds: (performance.now() - start) / 1000, root, tiles };
}

function runNaive(leaves: Uint8Array[]): { seconds: number; root: Uint8Array } {
  let root: Uint8Array = new Uint8Array();
  const start = performance.now();
  for (let i = batch_leaves; i <= leaves.length; i += batch_leaves) root = naiveRoot(leaves.slice(0, i));
  return { seconds: (performance.now() - start) / 1000, root };
}

const leaves = makeLeaves(Math.max(leaves_total, baseline_leaves_total));
const same_workload = leaves.slice(0, baseline_leaves_total);
const naive = runNaive(same_workload);
const incremental_small = runAppender(same_workload);
assert(Buffer.compare(naive.root, incremental_small.root) === 0, "appender and naive roots differ");
const incremental = runAppender(leaves.slice(0, leaves_total));

const rate = (count: number, seconds: number) => Math.round(count / seconds);
console.log(`batch ${batch_leaves} leaves; roots checked equal on ${baseline_leaves_total} leaves`);
console.log(
  `naive MTH per batch:   ${rate(baseline_leaves_total, naive.seconds)} leaves/s (${baseline_leaves_total} leaves)`,
);
console.log(`appender, same work:   ${rate(baseline_leaves_total, incremental_small.seconds)} leaves/s`);
console.log(`speedup vs naive:      ${(naive.seconds / incremental_small.seconds).toFixed(1)}×`);
console.log(
  `appender, ${leaves_total} leaves: ${rate(leaves_total, incremental.seconds)} leaves/s, ${incremental.tiles} tiles written`,
);

// Proof latency from stored tiles (in memory here; the database adds its own
// round trips): inclusion proofs for random leaves at the final size.
const log = new MemoryTiledLog();
for (let i = 0; i < leaves_total; i += batch_leaves) log.append(leaves.slice(i, i + batch_leaves));
const latencies_ms: number[] = [];
for (let i = 0; i < 2200; i++) {
  const index = BigInt(Math.floor(Math.random() * leaves_total));
  const start = performance.now();
  await inclusionProofFromTiles(index, log.size, log.fetch);
  if (i >= 200) latencies_ms.push(performance.now() - start); // the first 200 warm up the JIT
}
latencies_ms.sort((a, b) => a - b);
const p99_ms = latencies_ms[Math.floor(latencies_ms.length * 0.99)]!;
console.log(
  `inclusion proof from tiles at size ${log.size}: p50 ${latencies_ms[1000]!.toFixed(3)} ms, p99 ${p99_ms.toFixed(3)} ms`,
);
