import { assert } from "../../core/assert.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// N concurrent clients, each posting one order at a time to POST /v1/orders:
// the server's group commit coalesces them into shared transactions.
export function singleScenario(env: ScenarioEnv): Scenario {
  const client = env.client;
  assert(client !== null, "the single scenario needs the HTTP client");
  return {
    workers: env.options.clients,
    async step() {
      const response = await client.post("/v1/orders", env.feed.next().body);
      if (response.status !== 201 && response.status !== 200) {
        report(env, `single: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
        return { orders: 0, postings: 0 };
      }
      return { orders: 1, postings: 0 };
    },
  };
}
