import { DomainError } from "../errors.ts";
import { assertCurrency } from "../money.ts";
import {
  bp_max,
  id_length_max,
  merchant_overrides_max,
  providers_max,
  rules_per_policy_max,
} from "./limits.ts";
import { readId } from "./order.ts";
import { parseRateTable, parseTiers, type RateTable, type Tier } from "./rates.ts";
import {
  type JsonObject,
  readArray,
  readBoolean,
  readEnum,
  readInteger,
  readMinor,
  readObject,
  readString,
} from "./read.ts";
import { type Role, roles } from "./types.ts";

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

const rule_kinds = [
  "commission",
  "supplier_cost",
  "referral",
  "shipping",
  "psp_fee",
  "tax",
  "cap",
  "remainder",
] as const;
type RuleKind = (typeof rule_kinds)[number];
const rule_id_pattern = /^[a-z0-9_.-]{1,64}$/;
const absorber_roles: readonly Role[] = ["platform", "supplier", "referrer", "logistics"];

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

const allRuleFields = [
  "id",
  "kind",
  "default_bp",
  "by_category",
  "merchants",
  "tiers",
  "line_min_minor",
  "line_max_minor",
  "level1_bp",
  "level2_bp",
  "level1_off_categories",
  "level2_off_categories",
  "to",
  "bearer",
  "providers",
  "role",
  "bp",
  "mode",
  "exempt_roles",
  "absorbed_by",
];

const fields_by_kind: Record<RuleKind, readonly string[]> = {
  commission: ["default_bp", "by_category", "merchants", "tiers", "line_min_minor", "line_max_minor"],
  supplier_cost: [],
  referral: ["level1_bp", "level2_bp", "level1_off_categories", "level2_off_categories"],
  shipping: ["to"],
  psp_fee: ["bearer", "providers"],
  tax: ["role", "bp"],
  cap: ["bp", "mode", "exempt_roles"],
  remainder: ["absorbed_by"],
};

function parseRule(kind: RuleKind, object: JsonObject, field: string, order: number): unknown {
  readObject(object, field, ["id", "kind", ...fields_by_kind[kind]]);
  const id = object.id as string;
  switch (kind) {
    case "commission":
      return parseCommission(object, field, id, order);
    case "supplier_cost":
      return { kind, id, order };
    case "referral":
      return parseReferral(object, field, id, order);
    case "shipping":
      return { kind, id, order, to: readEnum(object.to, `${field}.to`, ["merchant", "logistics"] as const) };
    case "psp_fee":
      return parseFeeRule(object, field, id, order);
    case "tax":
      return {
        kind,
        id,
        order,
        role: readEnum(object.role, `${field}.role`, [
          "merchant",
          "supplier",
          "referrer",
          "platform",
          "logistics",
        ]),
        bp: readInteger(object.bp, `${field}.bp`, 0, bp_max),
      };
    case "cap":
      return {
        kind,
        id,
        order,
        bp: object.bp === undefined ? 3000 : readInteger(object.bp, `${field}.bp`, 0, bp_max),
        mode:
          object.mode === undefined ? "strict" : readEnum(object.mode, `${field}.mode`, ["strict", "audit"]),
        exempt_roles: new Set(
          object.exempt_roles === undefined
            ? ["psp"]
            : readRoles(object.exempt_roles, `${field}.exempt_roles`, roles),
        ),
      };
    case "remainder":
      return {
        kind,
        id,
        order,
        absorbed_by:
          object.absorbed_by === undefined
            ? ["platform"]
            : readRoles(object.absorbed_by, `${field}.absorbed_by`, absorber_roles),
      };
  }
}

function parseCommission(object: JsonObject, field: string, id: string, order: number): CommissionRule {
  const table = parseRateTable(object, field);
  const merchants = new Map<string, RateTable>();
  if (object.merchants !== undefined) {
    const entries = readObject(object.merchants, `${field}.merchants`, Object.keys(object.merchants ?? {}));
    const keys = Object.keys(entries).sort();
    if (keys.length > merchant_overrides_max) {
      throw new DomainError(
        "field_too_long",
        `${field}.merchants has too many entries`,
        `${field}.merchants`,
      );
    }
    for (const merchant_id of keys) {
      const sub = `${field}.merchants.${merchant_id}`;
      readId(merchant_id, sub);
      merchants.set(
        merchant_id,
        parseRateTable(readObject(entries[merchant_id], sub, ["default_bp", "by_category"]), sub),
      );
    }
  }
  const line_min_minor =
    object.line_min_minor === undefined
      ? undefined
      : readMinor(object.line_min_minor, `${field}.line_min_minor`, true);
  const line_max_minor =
    object.line_max_minor === undefined
      ? undefined
      : readMinor(object.line_max_minor, `${field}.line_max_minor`, true);
  if (line_min_minor !== undefined && line_max_minor !== undefined && line_min_minor > line_max_minor) {
    throw new DomainError(
      "policy_min_above_max",
      `${field}.line_min_minor ${line_min_minor} is above line_max_minor ${line_max_minor}`,
      `${field}.line_min_minor`,
    );
  }
  return {
    kind: "commission",
    id,
    order,
    ...table,
    merchants,
    tiers: object.tiers === undefined ? [] : parseTiers(object.tiers, `${field}.tiers`),
    ...(line_min_minor === undefined ? {} : { line_min_minor }),
    ...(line_max_minor === undefined ? {} : { line_max_minor }),
  };
}

function parseReferral(object: JsonObject, field: string, id: string, order: number): ReferralRule {
  const off = (key: string) =>
    new Set(
      object[key] === undefined
        ? []
        : readArray(object[key], `${field}.${key}`, 1000).map((entry, index) =>
            readString(entry, `${field}.${key}[${index}]`, 64),
          ),
    );
  return {
    kind: "referral",
    id,
    order,
    level_bp: [
      readInteger(object.level1_bp, `${field}.level1_bp`, 0, bp_max),
      readInteger(object.level2_bp ?? 0, `${field}.level2_bp`, 0, bp_max),
    ],
    level_off_categories: [off("level1_off_categories"), off("level2_off_categories")],
  };
}

function parseFeeRule(object: JsonObject, field: string, id: string, order: number): PspFeeRule {
  const providers = new Map<string, ProviderTerms>();
  if (object.providers !== undefined) {
    const entries = readObject(object.providers, `${field}.providers`, Object.keys(object.providers ?? {}));
    const keys = Object.keys(entries).sort();
    if (keys.length > providers_max) {
      throw new DomainError(
        "field_too_long",
        `${field}.providers has too many entries`,
        `${field}.providers`,
      );
    }
    for (const provider of keys) {
      const sub = `${field}.providers.${provider}`;
      readString(provider, sub, 32, /^[a-z0-9_-]{1,32}$/);
      const terms = readObject(entries[provider], sub, ["party_id", "fee_refunded"]);
      providers.set(provider, {
        party_id:
          terms.party_id === undefined ? `psp:${provider}` : readId(terms.party_id, `${sub}.party_id`),
        fee_refunded:
          terms.fee_refunded === undefined ? false : readBoolean(terms.fee_refunded, `${sub}.fee_refunded`),
      });
    }
  }
  return {
    kind: "psp_fee",
    id,
    order,
    bearer: readEnum(object.bearer, `${field}.bearer`, ["merchant", "platform", "receivers"] as const),
    providers,
  };
}

function readRoles(value: unknown, field: string, allowed: readonly Role[]): Role[] {
  const list = readArray(value, field, roles.length).map((entry, index) =>
    readEnum(entry, `${field}[${index}]`, allowed),
  );
  if (new Set(list).size !== list.length)
    throw new DomainError("field_invalid", `${field} repeats a role`, field);
  return list;
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
