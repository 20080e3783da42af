import { assert } from "../core/assert.ts";
import type { DemoMarketplace } from "../core/demo/index.ts";
import type { ServiceContext } from "../service/context.ts";
import { createParty } from "../service/ledger/accounts.ts";
import { type PartyAccountSpec, partyAccounts, partyKinds } from "../service/orders/party-accounts.ts";
import { assignPolicy, createPolicyDraft, publishPolicy } from "../service/policies.ts";

// Seeds a bench tenant with the demo marketplace's parties and its policy,
// published and assigned to the whole tenant from `effective_from`, which lies
// before every generated paid_at.
export async function seedBenchTenant(
  ctx: ServiceContext,
  tenant_id: string,
  market: DemoMarketplace,
  effective_from: Date,
): Promise<string> {
  for (const party of market.parties) await createParty(ctx, tenant_id, party);
  const draft = await createPolicyDraft(ctx, tenant_id, market.policy);
  const published = await publishPolicy(ctx, tenant_id, draft.id);
  assert(published.hash !== null, "a published policy has a hash");
  await assignPolicy(ctx, tenant_id, { scope: "tenant", policy_hash: published.hash, effective_from });
  await openAccounts(ctx, tenant_id, market);
  return published.hash;
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
