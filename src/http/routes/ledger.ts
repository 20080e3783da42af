import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { balanceMismatches, trialBalance } from "../../service/ledger/ledger-reads.ts";
import { principalOf } from "../authenticate.ts";
import { trial_balance_schema } from "../capability-schemas.ts";

export async function ledgerRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get(
    "/v1/ledger/trial-balance",
    {
      config: { roles: ["platform_admin", "finance", "auditor"] },
      schema: {
        tags: ["ledger"],
        summary:
          "Σ of all balances per currency (always zero) and any account whose balance differs from its postings",
        response: { 200: trial_balance_schema },
      },
    },
    async (request) => {
      const tenant_id = principalOf(request).tenant_id;
      const totals = await trialBalance(ctx.db, tenant_id);
      const mismatches = await balanceMismatches(ctx.db, tenant_id);
      return {
        balanced: totals.every((t) => t.total_minor === 0n) && mismatches.length === 0,
        currencies: totals,
        mismatches,
      };
    },
  );
}
