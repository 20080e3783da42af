import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import {
  type JsonObject,
  readArray,
  readInteger,
  readMinor,
  readObject,
  readString,
} from "./field-readers.ts";
import type { CommissionRule, RateTable, Tier } from "./policy-types.ts";
import { bp_max, categories_per_table_max, category_length_max, tiers_max } from "./split-limits.ts";

export type { RateTable, Tier } from "./policy-types.ts";

export function parseRateTable(object: JsonObject, field: string): RateTable {
  const by_category = new Map<string, number>();
  if (object.by_category !== undefined) {
    const table = readObject(
      object.by_category,
      `${field}.by_category`,
      Object.keys(object.by_category ?? {}),
    );
    const keys = Object.keys(table).sort();
    if (keys.length > categories_per_table_max) {
      throw new DomainError(
        "field_too_long",
        `${field}.by_category has too many entries`,
        `${field}.by_category`,
      );
    }
    for (const category of keys) {
      readString(category, `${field}.by_category`, category_length_max);
      by_category.set(category, readInteger(table[category], `${field}.by_category.${category}`, 0, bp_max));
    }
  }
  if (object.default_bp === undefined) return { by_category };
  return { default_bp: readInteger(object.default_bp, `${field}.default_bp`, 0, bp_max), by_category };
}

/** Tiers are sorted by their GMV threshold, which must be distinct. */
export function parseTiers(value: unknown, field: string): Tier[] {
  const tiers = readArray(value, field, tiers_max).map((entry, index) => {
    const sub = `${field}[${index}]`;
    const object = readObject(entry, sub, ["gmv_30d_min_minor", "default_bp", "by_category"]);
    return {
      gmv_30d_min_minor: readMinor(object.gmv_30d_min_minor, `${sub}.gmv_30d_min_minor`, true),
      ...parseRateTable(object, sub),
    };
  });
  tiers.sort((a, b) => (a.gmv_30d_min_minor < b.gmv_30d_min_minor ? -1 : 1));
  for (let index = 1; index < tiers.length; index += 1) {
    if (tiers[index]!.gmv_30d_min_minor === tiers[index - 1]!.gmv_30d_min_minor) {
      throw new DomainError("policy_tier_duplicate", `${field} has two tiers with the same threshold`, field);
    }
  }
  return tiers;
}

export interface RateChoice {
  readonly bp: number;
  /** Which table gave the rate, in words, for the leg's note. */
  readonly source: string;
}

/**
 * The commission rate for a line. Tables are tried in order: the merchant's
 * override, the highest GMV tier the merchant reaches, then the base table. In
 * each, the category's own rate wins, then that table's default. A category that
 * no table prices is an error, never a silent zero.
 */
export function commissionRate(
  rule: CommissionRule,
  merchant_id: string,
  category: string,
  gmv_30d_minor: bigint | undefined,
  field: string,
): RateChoice {
  const chain: [RateTable, string][] = [];
  const override = rule.merchants.get(merchant_id);
  if (override) chain.push([override, `merchant ${merchant_id} override`]);
  const tier = reachedTier(rule, gmv_30d_minor);
  if (tier) chain.push([tier, `GMV tier from ${tier.gmv_30d_min_minor}`]);
  chain.push([rule, "policy"]);
  for (const [table, source] of chain) {
    const by_category = table.by_category.get(category);
    if (by_category !== undefined) return { bp: by_category, source: `${source}, category ${category}` };
    if (table.default_bp !== undefined) return { bp: table.default_bp, source: `${source}, default` };
  }
  throw new DomainError(
    "category_unknown",
    `${field} ${JSON.stringify(category)} has no commission rate and the policy has no default_bp`,
    field,
  );
}

function reachedTier(rule: CommissionRule, gmv_30d_minor: bigint | undefined): Tier | undefined {
  if (rule.tiers.length === 0) return undefined;
  if (gmv_30d_minor === undefined) {
    throw new DomainError(
      "context_gmv_missing",
      "the policy's commission has GMV tiers, so the merchant's trailing-30-day GMV must be given",
      "context.merchant_gmv_30d_minor",
    );
  }
  assert(gmv_30d_minor >= 0n, "GMV is never negative");
  let reached: Tier | undefined;
  for (const tier of rule.tiers) if (tier.gmv_30d_min_minor <= gmv_30d_minor) reached = tier;
  return reached;
}
