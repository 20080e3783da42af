import type { Role } from "./types.ts";

// The policy as plain data: the types every part of the split engine shares.
// They live apart from the parsers (policy.ts, policy-rules.ts, rates.ts) so
// that those import this module and never each other in a cycle.

export interface RateTable {
  readonly default_bp?: number;
  readonly by_category: ReadonlyMap<string, number>;
}

export interface Tier extends RateTable {
  readonly gmv_30d_min_minor: bigint;
}

export type Base = "line_net" | "line_net_after_coupons";
export type FeeBearer = "merchant" | "platform" | "receivers";
export type CapMode = "strict" | "audit";

// Every rule carries its id and its position in the policy: ties in rounding
// go to the rule that comes first.
interface RuleCommon {
  readonly id: string;
  readonly order: number;
}
export interface CommissionRule extends RuleCommon, RateTable {
  readonly kind: "commission";
  readonly merchants: ReadonlyMap<string, RateTable>;
  readonly tiers: readonly Tier[];
  readonly line_min_minor?: bigint;
  readonly line_max_minor?: bigint;
}
export interface SupplierRule extends RuleCommon {
  readonly kind: "supplier_cost";
}
export interface ReferralRule extends RuleCommon {
  readonly kind: "referral";
  readonly level_bp: readonly [number, number];
  readonly level_off_categories: readonly [ReadonlySet<string>, ReadonlySet<string>];
}
export interface ShippingRule extends RuleCommon {
  readonly kind: "shipping";
  readonly to: "merchant" | "logistics";
}
export interface ProviderTerms {
  readonly party_id: string;
  readonly fee_refunded: boolean;
}
export interface PspFeeRule extends RuleCommon {
  readonly kind: "psp_fee";
  readonly bearer: FeeBearer;
  readonly providers: ReadonlyMap<string, ProviderTerms>;
}
export interface TaxRule extends RuleCommon {
  readonly kind: "tax";
  readonly role: Role;
  readonly bp: number;
}
export interface CapRule extends RuleCommon {
  readonly kind: "cap";
  readonly bp: number;
  readonly mode: CapMode;
  readonly exempt_roles: ReadonlySet<Role>;
}
export interface RemainderRule extends RuleCommon {
  readonly kind: "remainder";
  readonly absorbed_by: readonly Role[];
}

export interface Policy {
  readonly policy_id: string;
  readonly version: number;
  readonly currency: string;
  readonly base: Base;
  readonly parties: {
    readonly platform: string;
    readonly tax_authority?: string;
    readonly logistics?: string;
  };
  readonly commission: CommissionRule;
  readonly supplier?: SupplierRule;
  readonly referral?: ReferralRule;
  readonly shipping?: ShippingRule;
  /** Always present: a policy without one means the merchant bears the fee and it is not refunded. */
  readonly psp_fee: PspFeeRule;
  readonly tax?: TaxRule;
  /** Always present: the default is 3000 bp (30%), strict, PSP exempt. */
  readonly cap: CapRule;
  /** Always present: the default absorber of a negative merchant share is the platform. */
  readonly remainder: RemainderRule;
}

export const rule_kinds = [
  "commission",
  "supplier_cost",
  "referral",
  "shipping",
  "psp_fee",
  "tax",
  "cap",
  "remainder",
] as const;
export type RuleKind = (typeof rule_kinds)[number];
export const absorber_roles: readonly Role[] = ["platform", "supplier", "referrer", "logistics"];
