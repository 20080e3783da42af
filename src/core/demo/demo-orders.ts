import { assert } from "../assert.ts";
import { type Category, categories, type DemoMarketplace, supplierIds } from "./demo-marketplace.ts";
import { pickWeighted, type Random, seededRandom } from "./random.ts";

// Orders of the demo marketplace as the mall would send them: JSON numbers in
// fen, the order rule kept exactly (paid = Σ(qty × price − discount) − coupons
// + shipping), and the events that follow payment (completion, refunds,
// chargebacks) as offsets from paid_at. Pure and deterministic from the seed.

export interface DemoRefund {
  after_ms: number;
  body: unknown;
  kind: "refund" | "chargeback";
}

export interface DemoOrder {
  body: unknown;
  /** When the buyer confirms receipt, after paid_at; null when the order is never completed. */
  complete_after_ms: number | null;
  /** In time order. */
  refunds: DemoRefund[];
}

export interface OrderOptions {
  seed: number;
  count: number;
  start_ms: number;
  end_ms: number;
  id_prefix?: string;
}

interface LineJson {
  line_id: string;
  sku: string;
  category: string;
  qty: number;
  unit_price_minor: number;
  merchant_discount_minor?: number;
  supplier_id?: string;
  supplier_unit_cost_minor?: number;
}

interface OrderShape {
  id: string;
  lines: LineJson[];
  paid_minor: number;
  shipping_minor: number;
}

const hour_ms = 3_600_000;
const day_ms = 24 * hour_ms;
const line_count_cumulative = [45, 70, 85, 95, 100];
const psp_fee_rate = 0.006;
const free_shipping_from_minor = 9_900;
const shipping_minor = 800;
export const orders_per_call_max = 100_000_000;

/** Everything per marketplace that each order needs, computed once. */
interface Prepared {
  merchant_cumulative: number[];
  category_by_name: Map<string, { category: Category; index: number }>;
  suppliers: string[];
  level1: { id: string; parent_id: string | undefined }[];
}

function prepare(market: DemoMarketplace): Prepared {
  assert(market.merchants.length > 0, "a marketplace has merchants");
  const merchant_cumulative: number[] = [];
  let total = 0;
  for (const merchant of market.merchants) {
    total += merchant.weight;
    merchant_cumulative.push(total);
  }
  const category_by_name = new Map(categories.map((category, index) => [category.name, { category, index }]));
  // First-level referrers are the ones no other referrer names as parent.
  const parents = new Set(market.parties.map((party) => party.parent_id).filter((id) => id !== undefined));
  const level1 = market.parties
    .filter((party) => party.kind === "referrer" && !parents.has(party.id))
    .map((party) => ({ id: party.id, parent_id: party.parent_id }));
  assert(level1.length > 0, "a marketplace has first-level referrers");
  return { merchant_cumulative, category_by_name, suppliers: supplierIds(), level1 };
}

export function* generateOrders(market: DemoMarketplace, options: OrderOptions): Generator<DemoOrder> {
  assert(Number.isInteger(options.count) && options.count >= 0, "count is a whole number");
  assert(options.count <= orders_per_call_max, "count ≤ orders_per_call_max");
  assert(options.end_ms >= options.start_ms, "end_ms ≥ start_ms");
  const prepared = prepare(market);
  const random = seededRandom(options.seed);
  const prefix = options.id_prefix ?? "WST";
  const span_ms = options.end_ms - options.start_ms;
  for (let index = 0; index < options.count; index++) {
    // Spread evenly with jitter, so paid_at rises through the stream as in real traffic.
    const paid_at_ms = options.start_ms + Math.floor((span_ms * (index + random.next())) / options.count);
    const id = `${prefix}${String(index + 1).padStart(8, "0")}`;
    yield generateOrder(market, prepared, random, id, paid_at_ms);
  }
}

function generateOrder(
  market: DemoMarketplace,
  prepared: Prepared,
  random: Random,
  id: string,
  paid_at_ms: number,
): DemoOrder {
  const merchant_index = pickWeighted(prepared.merchant_cumulative, random.next());
  const merchant = market.merchants[merchant_index]!;
  const line_count = pickWeighted(line_count_cumulative, random.next()) + 1;
  const lines: LineJson[] = [];
  let goods_minor = 0;
  for (let line_index = 0; line_index < line_count; line_index++) {
    const line = generateLine(prepared, random, merchant.categories, merchant_index, line_index);
    goods_minor += line.qty * line.unit_price_minor - (line.merchant_discount_minor ?? 0);
    lines.push(line);
  }
  const coupons = generateCoupons(random, goods_minor, id);
  let coupons_minor = 0;
  for (const coupon of coupons) coupons_minor += coupon.amount_minor;
  assert(coupons_minor <= goods_minor, "coupons never exceed the goods");
  const shipping = goods_minor >= free_shipping_from_minor ? 0 : shipping_minor;
  const paid_minor = goods_minor - coupons_minor + shipping;
  const referrers = random.chance(0.25) ? referrerChain(prepared, random) : [];
  const body: Record<string, unknown> = {
    id,
    currency: "CNY",
    paid_at: new Date(paid_at_ms).toISOString(),
    merchant_id: merchant.id,
    buyer_ref: `b-${random.int(1, 50_000)}`,
    ...(referrers.length === 0 ? {} : { referrers }),
    lines,
    ...(coupons.length === 0 ? {} : { coupons }),
    shipping_minor: shipping,
    paid_minor,
    psp: {
      provider: random.chance(0.6) ? "wechat" : "alipay",
      reference: `psp-${id}`,
      fee_minor: Math.round(paid_minor * psp_fee_rate),
    },
  };
  return afterPayment(random, { id, lines, paid_minor, shipping_minor: shipping }, body);
}

function generateLine(
  prepared: Prepared,
  random: Random,
  merchant_categories: readonly string[],
  merchant_index: number,
  line_index: number,
): LineJson {
  const entry = prepared.category_by_name.get(random.pick(merchant_categories));
  assert(entry !== undefined, "merchant categories are known");
  const { category, index } = entry;
  // Log-uniform prices ending in 90 fen, as shops price them.
  const low = Math.log(category.unit_price_min_minor);
  const high = Math.log(category.unit_price_max_minor);
  const raw = Math.exp(low + random.next() * (high - low));
  const unit_price_minor = Math.max(category.unit_price_min_minor, Math.round(raw / 100) * 100 - 10);
  const qty = random.chance(0.75) ? 1 : random.int(2, 4);
  const line: LineJson = {
    line_id: String(line_index + 1),
    sku: `${category.name.slice(0, 3).toUpperCase()}-${merchant_index + 1}-${random.int(1, 400)}`,
    category: category.name,
    qty,
    unit_price_minor,
  };
  if (random.chance(0.2)) {
    const discount = Math.floor(qty * unit_price_minor * (0.05 + random.next() * 0.05));
    if (discount > 0) line.merchant_discount_minor = discount;
  }
  if (random.chance(0.4)) {
    // The supplier's cost stays well under the price, so the merchant's remainder is never negative.
    line.supplier_id = prepared.suppliers[(index + merchant_index) % prepared.suppliers.length]!;
    line.supplier_unit_cost_minor = Math.floor(unit_price_minor * (0.35 + random.next() * 0.2));
  }
  return line;
}

function generateCoupons(
  random: Random,
  goods_minor: number,
  id: string,
): { code: string; funded_by: "platform" | "merchant"; amount_minor: number }[] {
  const coupons: { code: string; funded_by: "platform" | "merchant"; amount_minor: number }[] = [];
  // Each coupon is at most 10% of the goods, so two never exceed them.
  if (random.chance(0.2)) {
    const amount_minor = Math.max(1, Math.floor((goods_minor * random.int(3, 10)) / 100 / 100) * 100);
    coupons.push({
      code: `PLAT-${id.slice(-3)}`,
      funded_by: "platform",
      amount_minor: Math.min(amount_minor, goods_minor),
    });
  }
  if (random.chance(0.1)) {
    const amount_minor = Math.max(1, Math.floor((goods_minor * random.int(2, 10)) / 100));
    coupons.push({
      code: `SHOP-${id.slice(-3)}`,
      funded_by: "merchant",
      amount_minor: Math.min(amount_minor, goods_minor),
    });
  }
  return coupons;
}

function referrerChain(prepared: Prepared, random: Random): string[] {
  const referrer = random.pick(prepared.level1);
  return referrer.parent_id === undefined ? [referrer.id] : [referrer.id, referrer.parent_id];
}

/** Completion for most orders; about 10% get refunds (partial or full) and a few chargebacks. */
function afterPayment(random: Random, order: OrderShape, body: unknown): DemoOrder {
  const complete_after_ms = random.chance(0.88) ? random.int(1 * day_ms, 6 * day_ms) : null;
  const refunds: DemoRefund[] = [];
  const draw = random.next();
  const after_ms = random.int(hour_ms, 10 * day_ms);
  if (draw < 0.05) {
    const line = random.pick(order.lines);
    refunds.push(lineRefund(order, line, random.int(1, line.qty), after_ms, 1));
    // Sometimes the buyer returns a second line later.
    const other = order.lines.find((candidate) => candidate !== line);
    if (other !== undefined && random.chance(0.3)) {
      refunds.push(lineRefund(order, other, other.qty, after_ms + random.int(hour_ms, 3 * day_ms), 2));
    }
  } else if (draw < 0.075) {
    refunds.push(amountRefund(order, order.paid_minor, after_ms, "refund"));
  } else if (draw < 0.09) {
    refunds.push(
      amountRefund(
        order,
        Math.max(1, Math.floor(order.paid_minor * (0.1 + random.next() * 0.4))),
        after_ms,
        "refund",
      ),
    );
  } else if (draw < 0.1) {
    refunds.push(amountRefund(order, order.paid_minor, after_ms, "chargeback"));
  }
  return { body, complete_after_ms, refunds };
}

function lineRefund(
  order: OrderShape,
  line: LineJson,
  qty: number,
  after_ms: number,
  number: number,
): DemoRefund {
  assert(qty >= 1 && qty <= line.qty, "a line refund takes back at most the quantity bought");
  return {
    after_ms,
    kind: "refund",
    body: { refund_id: `RF-${order.id}-${number}`, lines: [{ line_id: line.line_id, qty }] },
  };
}

function amountRefund(
  order: OrderShape,
  amount_minor: number,
  after_ms: number,
  kind: "refund" | "chargeback",
): DemoRefund {
  assert(amount_minor >= 1 && amount_minor <= order.paid_minor, "a refund by amount is within what was paid");
  const prefix = kind === "chargeback" ? "CB" : "RF";
  return { after_ms, kind, body: { refund_id: `${prefix}-${order.id}-1`, amount_minor } };
}
