import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { amount_minor_max, assertCurrency } from "../money.ts";
import { readArray, readEnum, readInteger, readMinor, readObject, readString } from "./field-readers.ts";
import {
  category_length_max,
  code_length_max,
  coupons_per_order_max,
  external_id_length_max,
  external_id_pattern,
  id_length_max,
  lines_per_order_max,
  paid_at_floor,
  qty_max,
  referrers_per_order_max,
  timestamp_length_max,
} from "./split-limits.ts";

export interface OrderLine {
  readonly line_id: string;
  readonly sku: string;
  readonly category: string;
  readonly qty: bigint;
  readonly unit_price_minor: bigint;
  readonly merchant_discount_minor: bigint;
  readonly supplier_id?: string;
  readonly supplier_unit_cost_minor?: bigint;
  /** qty × unit_price − merchant_discount: what the line sells for before coupons. */
  readonly net_minor: bigint;
}

export type CouponFunder = "platform" | "merchant";

export interface Coupon {
  readonly code: string;
  readonly funded_by: CouponFunder;
  readonly amount_minor: bigint;
}

export interface Psp {
  readonly provider: string;
  readonly reference: string;
  readonly fee_minor: bigint;
}

export interface Order {
  readonly id: string;
  readonly currency: string;
  readonly paid_at: string;
  readonly merchant_id: string;
  readonly buyer_ref?: string;
  /** Level 1 first, then level 2. */
  readonly referrers: readonly string[];
  readonly lines: readonly OrderLine[];
  readonly coupons: readonly Coupon[];
  readonly shipping_minor: bigint;
  readonly paid_minor: bigint;
  readonly psp?: Psp;
}

const id_pattern = /^[\x21-\x7e]+$/;
const provider_pattern = /^[a-z0-9_-]{1,32}$/;
const timestamp_pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const order_fields = [
  "id",
  "currency",
  "paid_at",
  "merchant_id",
  "buyer_ref",
  "referrers",
  "lines",
  "coupons",
  "shipping_minor",
  "paid_minor",
  "psp",
] as const;
const line_fields = [
  "line_id",
  "sku",
  "category",
  "qty",
  "unit_price_minor",
  "merchant_discount_minor",
  "supplier_id",
  "supplier_unit_cost_minor",
] as const;

export function readId(value: unknown, field: string): string {
  return readString(value, field, id_length_max, id_pattern);
}

/**
 * Where an order comes from: `incoming` from the mall, checked against every
 * rule; `stored`, facts booked earlier and read back, checked against the
 * rules they were booked under (ids and paid_at were looser before issue 12).
 */
export type OrderSource = "incoming" | "stored";

/** Validates an order as the mall sends it (JSON numbers for amounts) and returns it typed, in bigints. */
export function parseOrder(json: unknown, source: OrderSource = "incoming"): Order {
  const object = readObject(json, "", order_fields);
  const id =
    source === "incoming"
      ? readString(object.id, "id", external_id_length_max, external_id_pattern)
      : readId(object.id, "id");
  assertCurrency(object.currency, "currency");
  const paid_at =
    source === "incoming"
      ? readPaidAt(object.paid_at)
      : readString(object.paid_at, "paid_at", timestamp_length_max, timestamp_pattern);
  const merchant_id = readId(object.merchant_id, "merchant_id");
  const buyer_ref = object.buyer_ref === undefined ? undefined : readId(object.buyer_ref, "buyer_ref");
  const referrers = parseReferrers(object.referrers);
  const lines = parseLines(object.lines);
  const coupons = parseCoupons(object.coupons);
  const shipping_minor =
    object.shipping_minor === undefined ? 0n : readMinor(object.shipping_minor, "shipping_minor", true);
  const paid_minor = readMinor(object.paid_minor, "paid_minor", false);
  const psp = object.psp === undefined ? undefined : parsePsp(object.psp);
  const order: Order = {
    id,
    currency: object.currency,
    paid_at,
    merchant_id,
    ...(buyer_ref === undefined ? {} : { buyer_ref }),
    referrers,
    lines,
    coupons,
    shipping_minor,
    paid_minor,
    ...(psp === undefined ? {} : { psp }),
  };
  checkTotals(order);
  return order;
}

/** A well-formed instant, not before paid_at_floor; the service bounds it by its clock too. */
function readPaidAt(value: unknown): string {
  const paid_at = readString(value, "paid_at", timestamp_length_max, timestamp_pattern);
  const paid_ms = Date.parse(paid_at);
  if (Number.isNaN(paid_ms))
    throw new DomainError(
      "field_invalid",
      `paid_at ${JSON.stringify(paid_at)} is not a valid instant`,
      "paid_at",
    );
  if (paid_ms < Date.parse(paid_at_floor))
    throw new DomainError(
      "paid_at_out_of_range",
      `paid_at ${paid_at} is before ${paid_at_floor}, the earliest accepted payment time`,
      "paid_at",
    );
  return paid_at;
}

function parseReferrers(value: unknown): string[] {
  if (value === undefined) return [];
  const referrers = readArray(value, "referrers", referrers_per_order_max).map((entry, index) =>
    readId(entry, `referrers[${index}]`),
  );
  if (referrers.length === 2 && referrers[0] === referrers[1]) {
    throw new DomainError(
      "referrer_duplicate",
      `referrers[1] repeats referrers[0] (${JSON.stringify(referrers[0])}); one party cannot be both levels`,
      "referrers[1]",
    );
  }
  return referrers;
}

function parseLines(value: unknown): OrderLine[] {
  const entries = readArray(value, "lines", lines_per_order_max);
  if (entries.length === 0)
    throw new DomainError("order_lines_empty", "lines must hold at least one line", "lines");
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const line = parseLine(entry, `lines[${index}]`);
    if (seen.has(line.line_id)) {
      throw new DomainError(
        "line_id_duplicate",
        `lines[${index}].line_id ${JSON.stringify(line.line_id)} appears twice`,
        `lines[${index}].line_id`,
      );
    }
    seen.add(line.line_id);
    return line;
  });
}

function parseLine(value: unknown, field: string): OrderLine {
  const object = readObject(value, field, line_fields);
  const qty = BigInt(readQty(object.qty, `${field}.qty`));
  const unit_price_minor = readMinor(object.unit_price_minor, `${field}.unit_price_minor`, true);
  const merchant_discount_minor =
    object.merchant_discount_minor === undefined
      ? 0n
      : readMinor(object.merchant_discount_minor, `${field}.merchant_discount_minor`, true);
  const gross_minor = qty * unit_price_minor;
  if (gross_minor > amount_minor_max) {
    throw new DomainError(
      "amount_too_large",
      `${field}: qty × unit_price_minor = ${gross_minor}, above the limit ${amount_minor_max}`,
      `${field}.unit_price_minor`,
    );
  }
  if (merchant_discount_minor > gross_minor) {
    throw new DomainError(
      "line_discount_exceeds_price",
      `${field}.merchant_discount_minor ${merchant_discount_minor} is more than qty × unit_price_minor ${gross_minor}`,
      `${field}.merchant_discount_minor`,
    );
  }
  const supplier = parseSupplier(object, field, qty);
  return {
    line_id: readString(object.line_id, `${field}.line_id`, id_length_max, id_pattern),
    sku: readString(object.sku, `${field}.sku`, id_length_max),
    category: readString(object.category, `${field}.category`, category_length_max),
    qty,
    unit_price_minor,
    merchant_discount_minor,
    ...supplier,
    net_minor: gross_minor - merchant_discount_minor,
  };
}

function readQty(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value <= 0) {
    throw new DomainError("line_qty_not_positive", `${field} must be at least 1, got ${value}`, field);
  }
  return readInteger(value, field, 1, qty_max);
}

function parseSupplier(
  object: Record<string, unknown>,
  field: string,
  qty: bigint,
): { supplier_id?: string; supplier_unit_cost_minor?: bigint } {
  const has_id = object.supplier_id !== undefined;
  const has_cost = object.supplier_unit_cost_minor !== undefined;
  if (!has_id && !has_cost) return {};
  if (!has_id || !has_cost) {
    const missing = has_id ? "supplier_unit_cost_minor" : "supplier_id";
    throw new DomainError(
      "line_supplier_incomplete",
      `${field}.${missing} is required when the line names a supplier or a supplier cost`,
      `${field}.${missing}`,
    );
  }
  const supplier_unit_cost_minor = readMinor(
    object.supplier_unit_cost_minor,
    `${field}.supplier_unit_cost_minor`,
    true,
  );
  if (qty * supplier_unit_cost_minor > amount_minor_max) {
    throw new DomainError(
      "amount_too_large",
      `${field}: qty × supplier_unit_cost_minor is above the limit ${amount_minor_max}`,
      `${field}.supplier_unit_cost_minor`,
    );
  }
  return { supplier_id: readId(object.supplier_id, `${field}.supplier_id`), supplier_unit_cost_minor };
}

function parseCoupons(value: unknown): Coupon[] {
  if (value === undefined) return [];
  return readArray(value, "coupons", coupons_per_order_max).map((entry, index) => {
    const field = `coupons[${index}]`;
    const object = readObject(entry, field, ["code", "funded_by", "amount_minor"]);
    return {
      code: readString(object.code, `${field}.code`, code_length_max),
      funded_by: readEnum(object.funded_by, `${field}.funded_by`, ["platform", "merchant"] as const),
      amount_minor: readMinor(object.amount_minor, `${field}.amount_minor`, false),
    };
  });
}

function parsePsp(value: unknown): Psp {
  const object = readObject(value, "psp", ["provider", "reference", "fee_minor"]);
  return {
    provider: readString(object.provider, "psp.provider", 32, provider_pattern),
    reference: readString(object.reference, "psp.reference", id_length_max),
    fee_minor: object.fee_minor === undefined ? 0n : readMinor(object.fee_minor, "psp.fee_minor", true),
  };
}

/** Coupons may not exceed the goods, and paid_minor must be exactly what the lines say. */
function checkTotals(order: Order): void {
  let goods_minor = 0n;
  for (const line of order.lines) goods_minor += line.net_minor;
  let coupons_minor = 0n;
  order.coupons.forEach((coupon, index) => {
    coupons_minor += coupon.amount_minor;
    if (coupons_minor > goods_minor) {
      throw new DomainError(
        "coupon_exceeds_goods",
        `coupons[${index}].amount_minor brings the coupons to ${coupons_minor}, more than the goods ${goods_minor}`,
        `coupons[${index}].amount_minor`,
        { coupons_minor: coupons_minor.toString(), goods_minor: goods_minor.toString() },
      );
    }
  });
  const expected_minor = goods_minor - coupons_minor + order.shipping_minor;
  assert(expected_minor >= 0n, "goods minus coupons plus shipping is never negative");
  if (expected_minor !== order.paid_minor) {
    throw new DomainError(
      "order_paid_mismatch",
      `paid_minor is ${order.paid_minor} but the lines say ${expected_minor} ` +
        `(goods ${goods_minor} − coupons ${coupons_minor} + shipping ${order.shipping_minor})`,
      "paid_minor",
      { paid_minor: order.paid_minor.toString(), expected_minor: expected_minor.toString() },
    );
  }
  if (order.psp !== undefined && order.psp.fee_minor > order.paid_minor) {
    throw new DomainError(
      "psp_fee_exceeds_paid",
      `psp.fee_minor ${order.psp.fee_minor} is more than paid_minor ${order.paid_minor}`,
      "psp.fee_minor",
    );
  }
}

export function goodsMinor(order: Order): bigint {
  let total = 0n;
  for (const line of order.lines) total += line.net_minor;
  return total;
}
