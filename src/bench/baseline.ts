import type { DemoMarketplace } from "../core/demo/index.ts";
import { allocate, loadPolicy, parseOrder, pspTerms } from "../core/split/index.ts";
import type { Database } from "../store/database.ts";
import { OrderFeed } from "./feed.ts";
import { NaiveLedger, naiveProblems } from "./naive.ts";
import { runTimed, type TimedResult } from "./step-runner.ts";

// Runs the naive ledger on the same generated orders, with one order per
// transaction from `workers` concurrent connections.
export const baseline_workers_pg = 16;

export interface BaselineOutcome {
  result: TimedResult;
  problems: string[];
}

export async function runBaseline(
  db: Database,
  market: DemoMarketplace,
  options: { seed: number; seconds: number; warmup_seconds: number; progress: boolean; end_ms: number },
): Promise<BaselineOutcome> {
  const psp_party_ids = market.parties.filter((party) => party.kind === "psp").map((party) => party.id);
  const ledger = await NaiveLedger.open(
    db,
    market.parties.map((party) => party.id),
    psp_party_ids,
  );
  const { policy, policy_hash } = loadPolicy(market.policy.body);
  const feed = new OrderFeed(market, options.seed, "NAIVE", options.end_ms);
  const workers = db.backend === "postgres" ? baseline_workers_pg : 1;
  const result = await runTimed({
    label: "baseline",
    seconds: options.seconds,
    warmup_seconds: options.warmup_seconds,
    workers,
    progress: options.progress,
    step: async () => {
      const order = parseOrder(feed.next().body);
      const allocation = allocate(policy, order, { policy_hash });
      const clearing =
        order.psp === undefined ? psp_party_ids[0]! : pspTerms(policy, order.psp.provider).party_id;
      const postings = await ledger.book(order, allocation.legs, clearing);
      return { orders: 1, postings };
    },
  });
  return { result, problems: await naiveProblems(db) };
}
