import { assert } from "../../core/assert.ts";
import { firstUnsequenced, logVkey } from "../../service/tlog/index.ts";
import { verifyBundle } from "../../verify/index.ts";
import type { StepOutcome } from "../step-runner.ts";
import { batch_workers_pg } from "./batch.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// GET /v1/records/{id}/proof of random records already in a checkpoint, one
// request at a time: the latency of a proof bundle served from stored tiles
// (issue 21: p99 ≤ 2 ms at idle, ≤ 10 ms under batch load). `proof` measures
// it with nothing else running; `proof-load` while `batch`'s writers book
// orders through the same server. A step is one proof, so the result's
// `orders` counts proofs. Every bundle is verified with src/verify after the
// timed run (not inside it, so the check's CPU is not in the latency).

/** Orders booked before the timed run, so there are records to prove. */
export const proof_seed_orders = 2_000;
/** Bundles kept for the verification after the run; more than this fails the check. */
export const proof_bundles_max = 200_000;
const records_max = 100_000;
const sequenced_wait_ms_max = 60_000;

interface ProofBundleBody {
  leaf_index?: number;
}

export function proofScenario(env: ScenarioEnv, under_load: boolean): Scenario {
  const client = env.client;
  assert(client !== null, "the proof scenario needs the HTTP client");
  const load_workers = env.options.workers ?? (env.ctx.db.backend === "postgres" ? batch_workers_pg : 1);
  let records: string[] = [];
  const bundles: unknown[] = [];
  let random = (env.options.seed * 2_654_435_761 + 1) >>> 0 || 1;
  let loading = false;
  let load_orders = 0;
  let load_started_ms = 0;
  let load_ms = 0;
  const loads: Promise<void>[] = [];

  async function book(): Promise<number> {
    const orders = env.feed.take(env.options.batch_size).map((order) => order.body);
    const response = await client!.post("/v1/orders/batch", { orders });
    if (response.status !== 200) {
      report(env, `proof: batch HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
      return 0;
    }
    const results = (response.body as { results?: { status: string }[] }).results ?? [];
    const created = results.filter((result) => result.status === "created").length;
    if (created !== results.length)
      report(env, `proof: ${results.length - created} batch orders not created`);
    return created;
  }

  const probe_ms: number[] = [];
  let probing = false;
  async function probe(): Promise<void> {
    if (probing) return;
    probing = true;
    const started = performance.now();
    const response = await client!.get("/healthz");
    if (response.status === 200) probe_ms.push(performance.now() - started);
    probing = false;
  }

  async function loadLoop(): Promise<void> {
    while (loading) load_orders += await book();
  }

  return {
    workers: 1,
    async start() {
      for (let booked = 0; booked < proof_seed_orders; ) booked += Math.max(1, await book());
      records = await sequencedRecords(env);
      assert(records.length > 0, "the proof scenario has records to prove");
      if (under_load) {
        loading = true;
        load_started_ms = performance.now();
        for (let worker = 0; worker < load_workers; worker++) loads.push(loadLoop());
      }
    },
    async step(): Promise<StepOutcome> {
      // xorshift32: the same records in the same order for the same --seed.
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      random >>>= 0;
      const id = records[random % records.length]!;
      const response = await client.get(`/v1/records/${id}/proof`);
      if (response.status !== 200) {
        report(
          env,
          `proof: HTTP ${response.status} for ${id}: ${JSON.stringify(response.body).slice(0, 300)}`,
        );
        return { orders: 0, postings: 0 };
      }
      if (bundles.length < proof_bundles_max) bundles.push(response.body);
      else report(env, `proof: more than ${proof_bundles_max} proofs; the rest were not verified`);
      if (under_load && probe_ms.length < proof_bundles_max) {
        // Outside the step's latency: /healthz touches no database, so its time is the server's queue.
        setImmediate(() => void probe());
      }
      return { orders: 1, postings: 0 };
    },
    async finish() {
      loading = false;
      await Promise.all(loads);
      load_ms = performance.now() - load_started_ms;
      const lines = [await verifyAll(env, bundles)];
      if (under_load) {
        probe_ms.sort((a, b) => a - b);
        const at = (share: number) =>
          (probe_ms[Math.floor(probe_ms.length * share)] ?? Number.NaN).toFixed(2);
        lines.push(
          `proof-load: GET /healthz (no database) meanwhile p50 ${at(0.5)} ms, p99 ${at(0.99)} ms ` +
            `(${probe_ms.length} probes): the wait for the server's event loop alone`,
        );
        lines.push(
          `proof-load: ${load_workers} batch writers booked ${load_orders} orders meanwhile ` +
            `(${((load_orders / load_ms) * 1000).toFixed(1)} orders/s, warm-up included)`,
        );
      }
      return lines;
    },
  };
}

/** Waits until every record booked so far is in a checkpoint, then returns their ids. */
async function sequencedRecords(env: ScenarioEnv): Promise<string[]> {
  const deadline = Date.now() + sequenced_wait_ms_max;
  for (;;) {
    if ((await firstUnsequenced(env.ctx.db, env.tenant_id)) === undefined) break;
    assert(Date.now() < deadline, `proof: records still unsequenced after ${sequenced_wait_ms_max} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const rows = await env.ctx.db.query<{ id: string }>(
    "SELECT record_id::text AS id FROM log_leaves WHERE tenant_id = $1 ORDER BY leaf_index LIMIT $2",
    [env.tenant_id, records_max],
  );
  return rows.map((row) => row.id);
}

async function verifyAll(env: ScenarioEnv, bundles: readonly unknown[]): Promise<string> {
  const vkey = await logVkey(env.ctx.db, env.tenant_id);
  assert(vkey !== undefined && vkey !== null, "the scenario's log has a key");
  let failed = 0;
  for (const bundle of bundles) {
    try {
      await verifyBundle(bundle, [vkey]);
    } catch (error) {
      failed++;
      const leaf = (bundle as ProofBundleBody).leaf_index;
      report(env, `proof: bundle of leaf ${leaf} does not verify: ${(error as Error).message}`);
    }
  }
  return `proof: ${bundles.length - failed} of ${bundles.length} bundles verified with src/verify`;
}
