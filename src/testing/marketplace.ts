import policy_json from "../../examples/policies/b2b2c.json" with { type: "json" };
import type { ServiceContext } from "../service/context.ts";
import { createParty } from "../service/ledger/accounts.ts";
import { assignPolicy, createPolicyDraft, publishPolicy } from "../service/policies.ts";

// The parties named by examples/policies/b2b2c.json and the orders in examples/orders/b2b2c-*.json.
export const example_parties = [
  { id: "platform", kind: "platform", name: "Mall platform" },
  { id: "tax-cn", kind: "tax", name: "Tax authority" },
  { id: "logi-sf", kind: "logistics", name: "SF Express" },
  { id: "psp-wechat", kind: "psp", name: "WeChat Pay" },
  { id: "psp:alipay", kind: "psp", name: "Alipay" },
  { id: "m-1001", kind: "merchant", name: "Merchant 1001" },
  { id: "m-2002", kind: "merchant", name: "Merchant 2002" },
  { id: "s-4", kind: "supplier", name: "Supplier 4" },
  { id: "s-9", kind: "supplier", name: "Supplier 9" },
  { id: "s-12", kind: "supplier", name: "Supplier 12" },
  { id: "r-3", kind: "referrer", name: "Referrer 3" },
  { id: "r-7", kind: "referrer", name: "Referrer 7", parent_id: "r-3" },
] as const;

/**
 * Seeds the example B2B2C marketplace into a tenant and returns the published
 * policy's hash. `settlement` is every party's settlement profile (the crash
 * test pays out the same day with `{ cycle_days: 0 }`).
 */
export async function seedExampleMarketplace(
  ctx: ServiceContext,
  tenant_id: string,
  return_window_ms = 7 * 86_400_000,
  settlement?: Record<string, unknown>,
): Promise<string> {
  for (const party of example_parties) await createParty(ctx, tenant_id, { ...party, settlement });
  const draft = await createPolicyDraft(ctx, tenant_id, {
    name: "B2B2C mall",
    body: policy_json,
    return_window_ms,
  });
  const published = await publishPolicy(ctx, tenant_id, draft.id);
  await assignPolicy(ctx, tenant_id, {
    scope: "tenant",
    policy_hash: published.hash!,
    effective_from: new Date("2020-01-01T00:00:00Z"),
  });
  return published.hash!;
}
