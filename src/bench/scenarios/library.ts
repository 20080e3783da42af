import { bookOrders } from "../../service/orders/book.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// The service layer in-process, no HTTP: what the ledger itself can take.
export const library_workers_pg = 2;

export function libraryScenario(env: ScenarioEnv): Scenario {
  return {
    workers: env.options.workers ?? (env.ctx.db.backend === "postgres" ? library_workers_pg : 1),
    async step() {
      const bodies = env.feed.take(env.options.batch_size).map((order) => order.body);
      const results = await bookOrders(env.ctx, env.tenant_id, bodies);
      let created = 0;
      for (const result of results) {
        if (result.status === "created") created++;
        else if (result.status === "rejected")
          report(env, `library: order rejected: ${result.error.code} ${result.error.message}`);
      }
      return { orders: created, postings: 0 };
    },
  };
}
