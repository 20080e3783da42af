import { assert } from "../core/assert.ts";
import type { DemoMarketplace } from "../core/demo/index.ts";
import type { ServiceContext } from "../service/context.ts";
import { seedMarketplace } from "../service/demo/seed.ts";
import { type PartyAccountSpec, partyAccounts, partyKinds } from "../service/orders/party-accounts.ts";

// Seeds a bench tenant as the demo does (parties, the policy published and
// assigned to the whole tenant), then opens every account the order paths use.
export async function seedBenchTenant(
  ctx: ServiceContext,
  tenant_id: string,
  market: DemoMarketplace,
): Promise<string> {
  const policy_hash = await seedMarketplace(ctx, tenant_id, market);
  await openAccounts(ctx, tenant_id, market);
  return policy_hash;
}

/**
 * Opens every account the order paths will use, in one committed transaction,
 * as an onboarding step would. The order service opens missing accounts
 * inside its own transactions and caches their ids, so under concurrency a
 * rolled-back (retried) batch could leave the cache naming an account that was
 * never committed; opening them first keeps the bench about throughput.
 */
async function openAccounts(ctx: ServiceContext, tenant_id: string, market: DemoMarketplace): Promise<void> {
  const currency = "CNY";
  const specs: PartyAccountSpec[] = [{ party_id: market.platform_party_id, purpose: "clearing", currency }];
  for (const party of market.parties) {
    for (const purpose of ["held", "available", "debt"] as const)
      specs.push({ party_id: party.id, purpose, currency });
  }
  await ctx.db.transaction(async (tx) => {
    const kinds = await partyKinds(
      tx,
      tenant_id,
      market.parties.map((party) => party.id),
    );
    const accounts = await partyAccounts(tx, tenant_id, specs, kinds, ctx.now());
    assert(accounts.size === specs.length, "every bench account is open");
  });
}
