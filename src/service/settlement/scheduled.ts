import { isoDate } from "../../core/settlement/profile.ts";
import type { ServiceContext } from "../context.ts";
import { runSettlement } from "./settlement-run.ts";

/**
 * The scheduler's settlement step: once per UTC day per tenant, at the first
 * tick after the day's cut-off (midnight UTC, when the day's cycles become
 * due), run settlement. Whether today's run happened is read from the
 * database, so a restart neither skips nor repeats a day; two processes that
 * both run it pay nobody twice (the payout's cycle key).
 */
export async function settleIfDue(ctx: ServiceContext, tenant_id: string): Promise<number> {
  const now = ctx.now();
  const [done] = await ctx.db.query(
    `SELECT 1 FROM settlement_runs
      WHERE tenant_id = $1 AND run_date = $2::date AND trigger = 'scheduler' AND status = 'finished' LIMIT 1`,
    [tenant_id, isoDate(now)],
  );
  if (done !== undefined) return 0;
  const result = await runSettlement(ctx, tenant_id, { trigger: "scheduler", as_of: now });
  return result.paid.length;
}
