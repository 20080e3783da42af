import { cursor_length_max_chars } from "../core/page.ts";
// JSON Schemas shared by routes: they validate shape at the edge and document
// the API in /openapi.json. Semantic checks (sums, policies) stay in the domain,
// which names the field in its own errors.

export const amount_max = 9_007_199_254_740_991;
const amount = { type: "integer", minimum: 0, maximum: amount_max } as const;
const id = { type: "string", minLength: 1, maxLength: 128 } as const;

export const problem_schema = {
  type: "object",
  description: "RFC 9457 problem details",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    field: { type: "string" },
  },
} as const;

export const order_line_schema = {
  type: "object",
  required: ["line_id", "sku", "category", "qty", "unit_price_minor"],
  properties: {
    line_id: id,
    sku: id,
    category: { type: "string", minLength: 1, maxLength: 64 },
    qty: { type: "integer", minimum: 1, maximum: 1_000_000 },
    unit_price_minor: amount,
    merchant_discount_minor: amount,
    supplier_id: id,
    supplier_unit_cost_minor: amount,
  },
} as const;

export const order_schema = {
  type: "object",
  required: ["id", "currency", "paid_at", "merchant_id", "lines", "paid_minor"],
  properties: {
    id,
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    paid_at: { type: "string", format: "date-time", maxLength: 40 },
    merchant_id: id,
    buyer_ref: id,
    referrers: { type: "array", maxItems: 2, items: id },
    lines: { type: "array", minItems: 1, maxItems: 500, items: order_line_schema },
    coupons: {
      type: "array",
      maxItems: 20,
      items: {
        type: "object",
        required: ["code", "funded_by", "amount_minor"],
        properties: { code: id, funded_by: { enum: ["platform", "merchant"] }, amount_minor: amount },
      },
    },
    shipping_minor: amount,
    paid_minor: { ...amount, minimum: 1 },
    psp: {
      type: "object",
      required: ["provider", "reference", "fee_minor"],
      properties: {
        provider: { type: "string", pattern: "^[a-z0-9_-]{1,32}$" },
        reference: id,
        fee_minor: amount,
      },
    },
  },
} as const;

export const refund_schema = {
  type: "object",
  required: ["refund_id"],
  description: "By lines and quantities (plus optional shipping), or by amount_minor.",
  properties: {
    refund_id: id,
    lines: {
      type: "array",
      maxItems: 500,
      items: {
        type: "object",
        required: ["line_id", "qty"],
        properties: { line_id: id, qty: { type: "integer", minimum: 1 } },
      },
    },
    shipping_minor: amount,
    amount_minor: { ...amount, minimum: 1 },
  },
} as const;

export const leg_schema = {
  type: "object",
  properties: {
    party_id: { type: "string" },
    role: { type: "string" },
    amount_minor: { type: "integer" },
    rule_id: { type: "string" },
    line_id: { type: "string" },
    basis_minor: { type: "integer" },
    rate_bp: { type: "integer" },
    note: { type: "string" },
  },
} as const;

export const order_view_schema = {
  type: "object",
  properties: {
    id: { type: "string" },
    merchant_id: { type: "string" },
    currency: { type: "string" },
    paid_minor: { type: "integer" },
    paid_at: { type: "string", format: "date-time" },
    state: { enum: ["held", "completed", "released"] },
    refund_state: { enum: ["none", "partially_refunded", "refunded"] },
    refunded_minor: { type: "integer" },
    releasable_at: { type: ["string", "null"], format: "date-time" },
    released_at: { type: ["string", "null"], format: "date-time" },
    policy_hash: { type: "string" },
    legs: { type: "array", items: leg_schema },
    explanation: { type: "array", items: { type: "string" } },
  },
} as const;

export const id_params = { type: "object", required: ["id"], properties: { id } } as const;

// One pagination (docs/integration.md#pagination): `limit` and the opaque
// `cursor` of the previous page in; `{ items, next_cursor }` out.
export const page_query = {
  cursor: { type: "string", minLength: 1, maxLength: cursor_length_max_chars },
  limit: { type: "string", pattern: "^[0-9]{1,4}$" },
} as const;

export const next_cursor_schema = {
  type: ["string", "null"],
  description: "Pass as `cursor` to get the next page; null on the last page.",
} as const;

/** The response of a list route: a page of `item` schemas and the next cursor. */
export function pageSchema(item: object) {
  return {
    type: "object",
    required: ["items", "next_cursor"],
    properties: { items: { type: "array", items: item }, next_cursor: next_cursor_schema },
  } as const;
}

export const instant_query = { type: "string", format: "date-time", maxLength: 40 } as const;

export const idempotency_header = {
  type: "object",
  properties: { "idempotency-key": { type: "string", minLength: 1, maxLength: 255 } },
} as const;
