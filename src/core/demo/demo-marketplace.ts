import { assert } from "../assert.ts";
import { type Random, seededRandom } from "./random.ts";

// The demo marketplace: one platform, merchants across categories, suppliers,
// two-level referrers, a tax authority, a logistics party, two PSPs, and the
// B2B2C policy over them. Pure and deterministic from its seed; the demo seed
// (`npm start`) and the benchmark both build on it.

export type DemoPartyKind = "platform" | "merchant" | "supplier" | "referrer" | "psp" | "tax" | "logistics";

export interface DemoParty {
  id: string;
  kind: DemoPartyKind;
  name: string;
  parent_id?: string;
  settlement?: Record<string, unknown>;
}

export interface DemoMerchant {
  id: string;
  categories: string[];
  /** Zipf-like popularity: the share of orders is weight / Σ weights. */
  weight: number;
}

export interface DemoMarketplace {
  platform_party_id: string;
  /** Parents come before their children, so they can be created in this order. */
  parties: DemoParty[];
  policy: { name: string; body: unknown; return_window_ms: number };
  merchants: DemoMerchant[];
}

export interface Category {
  name: string;
  commission_bp: number;
  unit_price_min_minor: number;
  unit_price_max_minor: number;
}

/** Categories with their commission and a plausible unit price range in fen. */
export const categories: readonly Category[] = [
  { name: "electronics", commission_bp: 600, unit_price_min_minor: 9_900, unit_price_max_minor: 599_900 },
  { name: "apparel", commission_bp: 1000, unit_price_min_minor: 3_900, unit_price_max_minor: 59_900 },
  { name: "grocery", commission_bp: 400, unit_price_min_minor: 990, unit_price_max_minor: 19_900 },
  { name: "beauty", commission_bp: 800, unit_price_min_minor: 2_900, unit_price_max_minor: 89_900 },
  { name: "home", commission_bp: 700, unit_price_min_minor: 1_990, unit_price_max_minor: 199_900 },
  { name: "books", commission_bp: 500, unit_price_min_minor: 1_500, unit_price_max_minor: 19_900 },
  { name: "toys", commission_bp: 800, unit_price_min_minor: 1_990, unit_price_max_minor: 69_900 },
  { name: "sports", commission_bp: 600, unit_price_min_minor: 2_990, unit_price_max_minor: 299_900 },
];

export const merchants_default = 20;
export const merchants_max = 1_000;
export const return_window_ms = 7 * 24 * 3600 * 1000;
const zipf_exponent = 1.07;
const suppliers_count = 8;
const referrers_level2_count = 4;
const referrers_level1_count = 12;

export const party_ids = {
  platform: "platform",
  tax: "tax-cn",
  logistics: "logi-sf",
  psp: { wechat: "psp-wechat", alipay: "psp-alipay" },
} as const;

const merchant_words = [
  "Jade",
  "Lotus",
  "Harbor",
  "Summit",
  "Maple",
  "Pearl",
  "Golden",
  "River",
  "Cloud",
  "Bamboo",
];
const merchant_suffixes = ["Trading", "Store", "Goods", "Outlet", "Emporium", "Shop", "Supply", "Market"];

export function generateMarketplace(options: { seed: number; merchants?: number }): DemoMarketplace {
  const count = options.merchants ?? merchants_default;
  assert(Number.isInteger(count) && count >= 1 && count <= merchants_max, "merchants is 1..merchants_max");
  const random = seededRandom(options.seed);
  const merchants = generateMerchants(random, count);
  const parties: DemoParty[] = [
    { id: party_ids.platform, kind: "platform", name: "ClearSplit Demo Mall" },
    { id: party_ids.tax, kind: "tax", name: "State Taxation Administration (withholding)" },
    { id: party_ids.logistics, kind: "logistics", name: "SF Express", settlement: { cycle_days: 30 } },
    { id: party_ids.psp.wechat, kind: "psp", name: "WeChat Pay" },
    { id: party_ids.psp.alipay, kind: "psp", name: "Alipay" },
    ...merchants.map((merchant, index) => merchantParty(random, merchant, index)),
    ...supplierParties(),
    ...referrerParties(random),
  ];
  const policy = { name: "B2B2C mall", body: policyBody(merchants[0]!), return_window_ms };
  return { platform_party_id: party_ids.platform, parties, policy, merchants };
}

function generateMerchants(random: Random, count: number): DemoMerchant[] {
  const merchants: DemoMerchant[] = [];
  for (let index = 0; index < count; index++) {
    // Every category has a merchant as long as there are enough merchants.
    const primary = categories[index % categories.length]!.name;
    const names = [primary];
    if (random.chance(0.4)) {
      const secondary = random.pick(categories).name;
      if (secondary !== primary) names.push(secondary);
    }
    merchants.push({ id: `m-${1001 + index}`, categories: names, weight: 1 / (index + 1) ** zipf_exponent });
  }
  return merchants;
}

function merchantParty(random: Random, merchant: DemoMerchant, index: number): DemoParty {
  const name = `${merchant_words[index % merchant_words.length]} ${merchant.categories[0]} ${random.pick(merchant_suffixes)}`;
  return {
    id: merchant.id,
    kind: "merchant",
    name: index >= merchant_words.length ? `${name} ${Math.floor(index / merchant_words.length) + 1}` : name,
    settlement: {
      cycle_days: random.pick([1, 7, 15]),
      payout_min_minor: 10_000,
      payout_account_ref: `bank-${merchant.id}`,
    },
  };
}

export function supplierIds(): string[] {
  return Array.from({ length: suppliers_count }, (_, index) => `s-${String(index + 1).padStart(2, "0")}`);
}

function supplierParties(): DemoParty[] {
  return supplierIds().map((id, index) => ({
    id,
    kind: "supplier" as const,
    name: `${categories[index % categories.length]!.name} wholesale ${index + 1}`,
    settlement: { cycle_days: 15, payout_min_minor: 50_000 },
  }));
}

function referrerParties(random: Random): DemoParty[] {
  const level2: DemoParty[] = Array.from({ length: referrers_level2_count }, (_, index) => ({
    id: `r-${201 + index}`,
    kind: "referrer" as const,
    name: `Affiliate network ${index + 1}`,
    settlement: { cycle_days: 30 },
  }));
  // Three in four first-level referrers were recruited by a second-level one.
  const level1: DemoParty[] = Array.from({ length: referrers_level1_count }, (_, index) => {
    const party: DemoParty = {
      id: `r-${101 + index}`,
      kind: "referrer",
      name: `Creator ${index + 1}`,
      settlement: { cycle_days: 30 },
    };
    if (index % 4 !== 3) party.parent_id = random.pick(level2).id;
    return party;
  });
  return [...level2, ...level1];
}

/** The B2B2C policy of examples/policies/b2b2c.json over this marketplace's parties. */
function policyBody(override: DemoMerchant): unknown {
  const by_category: Record<string, number> = {};
  for (const category of categories) by_category[category.name] = category.commission_bp;
  const primary = categories.find((category) => category.name === override.categories[0])!;
  return {
    policy_id: "demo-b2b2c-mall",
    version: 1,
    currency: "CNY",
    base: "line_net_after_coupons",
    parties: { platform: party_ids.platform, tax_authority: party_ids.tax, logistics: party_ids.logistics },
    rules: [
      { id: "supplier", kind: "supplier_cost" },
      {
        id: "commission",
        kind: "commission",
        by_category,
        // The top merchant negotiated a lower rate in its main category.
        merchants: { [override.id]: { by_category: { [primary.name]: primary.commission_bp - 150 } } },
        line_min_minor: 100,
        line_max_minor: 50_000,
      },
      { id: "referral", kind: "referral", level1_bp: 200, level2_bp: 50, level2_off_categories: ["grocery"] },
      { id: "shipping", kind: "shipping", to: "logistics" },
      {
        id: "psp_fee",
        kind: "psp_fee",
        bearer: "receivers",
        providers: {
          wechat: { party_id: party_ids.psp.wechat, fee_refunded: false },
          alipay: { party_id: party_ids.psp.alipay, fee_refunded: true },
        },
      },
      { id: "tax", kind: "tax", role: "referrer", bp: 2000 },
      { id: "cap", kind: "cap", bp: 3000, mode: "audit", exempt_roles: ["psp", "supplier", "logistics"] },
      { id: "remainder", kind: "remainder", absorbed_by: ["platform", "referrer"] },
    ],
  };
}
