import { assert } from "../../core/assert.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// POST /v1/orders/batch from a few concurrent clients: the high-throughput path.
export const batch_workers_pg = 4;

interface BatchResponse {
  results?: { status: string; error?: { code?: string } }[];
}

export function batchScenario(env: ScenarioEnv): Scenario {
  const client = env.client;
  assert(client !== null, "the batch scenario needs the HTTP client");
  return {
    workers: env.options.workers ?? (env.ctx.db.backend === "postgres" ? batch_workers_pg : 1),
    async step() {
      const orders = env.feed.take(env.options.batch_size).map((order) => order.body);
      const response = await client.post("/v1/orders/batch", { orders });
      if (response.status !== 200) {
        report(env, `batch: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
        return { orders: 0, postings: 0 };
      }
      let created = 0;
      for (const result of (response.body as BatchResponse).results ?? []) {
        if (result.status === "created") created++;
        else report(env, `batch: order ${result.status} ${JSON.stringify(result).slice(0, 300)}`);
      }
      return { orders: created, postings: 0 };
    },
  };
}
