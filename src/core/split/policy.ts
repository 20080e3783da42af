import { DomainError } from "../errors.ts";
import { assertCurrency } from "../money.ts";
import { readArray, readEnum, readInteger, readObject, readString } from "./field-readers.ts";
import { readId } from "./order.ts";
import { allRuleFields, parseRule } from "./policy-rules.ts";
import {
  type CapRule,
  type CommissionRule,
  type Policy,
  type ProviderTerms,
  type PspFeeRule,
  type ReferralRule,
  type RemainderRule,
  type RuleKind,
  rule_kinds,
  type ShippingRule,
  type SupplierRule,
  type TaxRule,
} from "./policy-types.ts";
import { id_length_max, rules_per_policy_max } from "./split-limits.ts";

export type {
  Base,
  CapMode,
  CapRule,
  CommissionRule,
  FeeBearer,
  Policy,
  ProviderTerms,
  PspFeeRule,
  RateTable,
  ReferralRule,
  RemainderRule,
  RuleKind,
  ShippingRule,
  SupplierRule,
  TaxRule,
  Tier,
} from "./policy-types.ts";
export { absorber_roles } from "./policy-types.ts";

const rule_id_pattern = /^[a-z0-9_.-]{1,64}$/;

/** Validates a policy document. Pure: the caller hashes the same JSON once with `policyHash`. */
export function parsePolicy(json: unknown): Policy {
  const object = readObject(json, "", ["policy_id", "version", "currency", "base", "parties", "rules"]);
  assertCurrency(object.currency, "currency");
  const parties = parseParties(object.parties);
  const rules = readArray(object.rules, "rules", rules_per_policy_max);
  const by_kind = new Map<RuleKind, unknown>();
  const ids = new Set<string>();
  rules.forEach((rule, index) => {
    const field = `rules[${index}]`;
    const head = readObject(rule, field, allRuleFields);
    const kind = readEnum(head.kind, `${field}.kind`, rule_kinds);
    const id = readString(head.id, `${field}.id`, 64, rule_id_pattern);
    if (by_kind.has(kind))
      throw new DomainError("policy_rule_duplicate", `${field}: a second ${kind} rule`, field);
    if (ids.has(id))
      throw new DomainError("policy_rule_id_duplicate", `${field}.id ${id} is used twice`, `${field}.id`);
    ids.add(id);
    by_kind.set(kind, parseRule(kind, head, field, index));
  });
  const commission = by_kind.get("commission") as CommissionRule | undefined;
  if (!commission) throw new DomainError("policy_rule_missing", "rules must hold a commission rule", "rules");
  const policy: Policy = {
    policy_id: readString(object.policy_id, "policy_id", id_length_max, /^[\x21-\x7e]+$/),
    version: readInteger(object.version, "version", 1, 2 ** 31 - 1),
    currency: object.currency,
    base: readEnum(object.base, "base", ["line_net", "line_net_after_coupons"] as const),
    parties,
    commission,
    supplier: by_kind.get("supplier_cost") as SupplierRule | undefined,
    referral: by_kind.get("referral") as ReferralRule | undefined,
    shipping: by_kind.get("shipping") as ShippingRule | undefined,
    psp_fee: (by_kind.get("psp_fee") as PspFeeRule | undefined) ?? implicitFeeRule(rules.length, ids),
    tax: by_kind.get("tax") as TaxRule | undefined,
    cap: (by_kind.get("cap") as CapRule | undefined) ?? implicitCapRule(rules.length + 1, ids),
    remainder:
      (by_kind.get("remainder") as RemainderRule | undefined) ?? implicitRemainder(rules.length + 2, ids),
  };
  checkParties(policy);
  return policy;
}

function parseParties(value: unknown): Policy["parties"] {
  const object = readObject(value, "parties", ["platform", "tax_authority", "logistics"]);
  return {
    platform: readId(object.platform, "parties.platform"),
    ...(object.tax_authority === undefined
      ? {}
      : { tax_authority: readId(object.tax_authority, "parties.tax_authority") }),
    ...(object.logistics === undefined ? {} : { logistics: readId(object.logistics, "parties.logistics") }),
  };
}

function checkParties(policy: Policy): void {
  if (policy.tax && policy.parties.tax_authority === undefined) {
    throw new DomainError(
      "policy_party_missing",
      "parties.tax_authority is required by the tax rule",
      "parties.tax_authority",
    );
  }
  if (policy.shipping?.to === "logistics" && policy.parties.logistics === undefined) {
    throw new DomainError(
      "policy_party_missing",
      "parties.logistics is required when shipping goes to logistics",
      "parties.logistics",
    );
  }
}

function freeId(wanted: string, ids: Set<string>): string {
  let id = wanted;
  for (let n = 2; ids.has(id); n += 1) id = `${wanted}-${n}`;
  return id;
}

function implicitFeeRule(order: number, ids: Set<string>): PspFeeRule {
  return { kind: "psp_fee", id: freeId("psp_fee", ids), order, bearer: "merchant", providers: new Map() };
}

function implicitCapRule(order: number, ids: Set<string>): CapRule {
  return {
    kind: "cap",
    id: freeId("cap", ids),
    order,
    bp: 3000,
    mode: "strict",
    exempt_roles: new Set(["psp"]),
  };
}

function implicitRemainder(order: number, ids: Set<string>): RemainderRule {
  return { kind: "remainder", id: freeId("remainder", ids), order, absorbed_by: ["platform"] };
}

/** The party that receives the PSP fee: the policy's mapping, else the convention `psp:<provider>`. */
export function pspTerms(policy: Policy, provider: string): ProviderTerms {
  return policy.psp_fee.providers.get(provider) ?? { party_id: `psp:${provider}`, fee_refunded: false };
}
