import { isoDate } from "../../core/settlement/profile.ts";
import { scheduledRunFinished } from "../../store/settlement-sql.ts";
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
  if (await scheduledRunFinished(ctx.db, tenant_id, isoDate(now))) return 0;
  const result = await runSettlement(ctx, tenant_id, { trigger: "scheduler", as_of: now });
  return result.paid.length;
}
