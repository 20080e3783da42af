import { assert } from "../../core/assert.ts";
import type { DemoOrder } from "../../core/demo/index.ts";
import { isDomainError } from "../../core/errors.ts";
import { bookOrders } from "../../service/orders/book.ts";
import { completeOrders, refundOrder, releaseDue } from "../../service/orders/order-lifecycle.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// paid → complete → release → refunds, through the service layer with the
// clock moved past the return window: every order of a step is booked, most
// are completed, refunds dated before completion are taken from held, the
// rest after the release from available (and may leave debt).
export const lifecycle_orders_per_step = 200;
export const lifecycle_workers_pg = 2;
export const parallel_calls_max = 8;
export const release_rounds_max = 1_000;
const day_ms = 24 * 3_600_000;

export function lifecycleScenario(env: ScenarioEnv): Scenario {
  return {
    workers: env.options.workers ?? (env.ctx.db.backend === "postgres" ? lifecycle_workers_pg : 1),
    async step() {
      const demos = env.feed.take(lifecycle_orders_per_step);
      const results = await bookOrders(
        env.ctx,
        env.tenant_id,
        demos.map((demo) => demo.body),
      );
      const booked: DemoOrder[] = [];
      results.forEach((result, index) => {
        if (result.status === "created") booked.push(demos[index]!);
        else if (result.status === "rejected") report(env, `lifecycle: order rejected: ${result.error.code}`);
      });
      const before = (demo: DemoOrder) =>
        demo.refunds.filter(
          (refund) => demo.complete_after_ms === null || refund.after_ms < demo.complete_after_ms,
        );
      const after = (demo: DemoOrder) => demo.refunds.filter((refund) => !before(demo).includes(refund));
      await inParallel(booked, (demo) => refundAll(env, demo, before(demo)));
      // Completions arrive in bulk from the mall's delivery feed: one transaction per round.
      // A demo order its buyer got back in full before the receipt has nothing to
      // complete (the API answers 409 order_fully_refunded): the feed skips it.
      const completing = booked.filter((demo) => demo.complete_after_ms !== null).map(orderId);
      if (completing.length > 0) {
        await guarded(env, "complete", () =>
          completeOrders(env.ctx, env.tenant_id, completing, undefined, { fully_refunded: "skip" }),
        );
      }
      // Past the return window: the scheduler's work, done here so it is measured.
      env.clock.advance(Math.ceil((env.market.policy.return_window_ms + day_ms) / day_ms) * day_ms);
      for (let round = 0; round < release_rounds_max; round++) {
        if ((await releaseDue(env.ctx, env.tenant_id, 500)) === 0) break;
      }
      await inParallel(booked, (demo) => refundAll(env, demo, after(demo)));
      return { orders: booked.length, postings: 0 };
    },
  };
}

function orderId(demo: DemoOrder): string {
  const id = (demo.body as { id?: unknown }).id;
  assert(typeof id === "string", "a demo order has an id");
  return id;
}

async function refundAll(env: ScenarioEnv, demo: DemoOrder, refunds: DemoOrder["refunds"]): Promise<void> {
  for (const refund of refunds) {
    await guarded(env, refund.kind, () =>
      refundOrder(env.ctx, env.tenant_id, orderId(demo), refund.body, refund.kind),
    );
  }
}

async function guarded(env: ScenarioEnv, what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    // Every demo event is valid, so any refusal or failure is a finding, not a reason to stop.
    const code = isDomainError(error) ? error.code : error instanceof Error ? error.name : "error";
    report(
      env,
      `lifecycle: ${what} failed: ${code} ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel_calls_max, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
