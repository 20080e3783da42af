import { DomainError } from "../errors.ts";
import {
  type JsonObject,
  readArray,
  readBoolean,
  readEnum,
  readInteger,
  readMinor,
  readObject,
  readString,
} from "./field-readers.ts";
import { readId } from "./order.ts";
import {
  absorber_roles,
  type CommissionRule,
  type ProviderTerms,
  type PspFeeRule,
  type RateTable,
  type ReferralRule,
  type RuleKind,
} from "./policy-types.ts";
import { parseRateTable, parseTiers } from "./rates.ts";
import { bp_max, merchant_overrides_max, providers_max } from "./split-limits.ts";
import { type Role, roles } from "./types.ts";

// How each kind of rule in a policy document is read and checked.

export const allRuleFields = [
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

export function parseRule(kind: RuleKind, object: JsonObject, field: string, order: number): unknown {
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
