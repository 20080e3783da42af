import { roles } from "../core/auth/roles.ts";
import { account_purposes, party_kinds } from "../core/ledger/types.ts";
import { idempotency_key_length_max } from "../core/limits.ts";
import { amount_minor_max } from "../core/money.ts";
import { cursor_length_max_chars } from "../core/page.ts";
import {
  category_length_max,
  code_length_max,
  coupons_per_order_max,
  id_length_max,
  lines_per_order_max,
  qty_max,
  referrers_per_order_max,
  refund_lines_max,
  timestamp_length_max,
} from "../core/split/split-limits.ts";
import { type ComponentRef, component, type JsonSchema } from "./components.ts";

// JSON Schemas shared by routes: they validate shape at the edge and document
// the API in /openapi.json, each resource once as a named component
// (components.ts). Semantic checks (sums, policies) stay in the domain, which
// names the field in its own errors. Every bound comes from its named limit.

/** The largest amount in minor units a JSON number carries exactly (2^53 - 1). */
export const amount_minor_max_number = Number(amount_minor_max);
const amount = { type: "integer", minimum: 0, maximum: amount_minor_max_number } as const;
const signed_amount = {
  type: "integer",
  minimum: -amount_minor_max_number,
  maximum: amount_minor_max_number,
} as const;
const id = { type: "string", minLength: 1, maxLength: id_length_max } as const;
const instant = { type: "string", format: "date-time" } as const;
const nullable_instant = { type: ["string", "null"], format: "date-time" } as const;
const nullable_string = { type: ["string", "null"] } as const;
const currency = { type: "string", pattern: "^[A-Z]{3}$" } as const;
const sha256_hex = { type: "string", pattern: "^[0-9a-f]{64}$" } as const;

export const problem_schema = component("Problem", {
  type: "object",
  description:
    "RFC 9457 problem details. `code` is one of the error catalogue's codes (docs/errors.md); `type` resolves to its page (/problems/{code}); `field` names the offending input.",
  required: ["type", "title", "status", "code"],
  properties: {
    type: { type: "string", examples: ["/problems/order_paid_mismatch"] },
    title: { type: "string" },
    status: { type: "integer", minimum: 400, maximum: 599 },
    detail: { type: "string" },
    code: { type: "string", examples: ["order_paid_mismatch"] },
    field: { type: "string", examples: ["paid_minor"] },
    instance: { type: "string" },
    request_id: { type: "string" },
  },
  examples: [
    {
      type: "/problems/order_paid_mismatch",
      title: "Paid amount mismatch",
      status: 422,
      code: "order_paid_mismatch",
      field: "paid_minor",
      detail: "paid_minor 9900 differs from the lines, shipping and coupons: 10000",
    },
  ],
});

export const order_line_schema = component("OrderLineInput", {
  type: "object",
  required: ["line_id", "sku", "category", "qty", "unit_price_minor"],
  properties: {
    line_id: id,
    sku: id,
    category: { type: "string", minLength: 1, maxLength: category_length_max },
    qty: { type: "integer", minimum: 1, maximum: qty_max },
    unit_price_minor: amount,
    merchant_discount_minor: amount,
    supplier_id: id,
    supplier_unit_cost_minor: amount,
  },
});

export const order_schema = component("OrderInput", {
  type: "object",
  description: "A paid order's facts, as the mall knows them at payment.",
  required: ["id", "currency", "paid_at", "merchant_id", "lines", "paid_minor"],
  properties: {
    id,
    currency,
    paid_at: { type: "string", format: "date-time", maxLength: timestamp_length_max },
    merchant_id: id,
    buyer_ref: id,
    referrers: { type: "array", maxItems: referrers_per_order_max, items: id },
    lines: { type: "array", minItems: 1, maxItems: lines_per_order_max, items: order_line_schema },
    coupons: {
      type: "array",
      maxItems: coupons_per_order_max,
      items: {
        type: "object",
        required: ["code", "funded_by", "amount_minor"],
        properties: {
          code: { type: "string", minLength: 1, maxLength: code_length_max },
          funded_by: { enum: ["platform", "merchant"] },
          amount_minor: amount,
        },
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
  examples: [
    {
      id: "ord-1001",
      currency: "CNY",
      paid_at: "2026-11-25T10:00:00Z",
      merchant_id: "m-acme",
      lines: [{ line_id: "l1", sku: "tea-250g", category: "food", qty: 2, unit_price_minor: 5000 }],
      paid_minor: 10000,
      psp: { provider: "wechat", reference: "wx-4200001", fee_minor: 60 },
    },
  ],
});

export const refund_schema = component("RefundInput", {
  type: "object",
  required: ["refund_id"],
  description: "By lines and quantities (plus optional shipping), or by amount_minor.",
  properties: {
    refund_id: id,
    lines: {
      type: "array",
      maxItems: refund_lines_max,
      items: {
        type: "object",
        required: ["line_id", "qty"],
        properties: { line_id: id, qty: { type: "integer", minimum: 1, maximum: qty_max } },
      },
    },
    shipping_minor: amount,
    amount_minor: { ...amount, minimum: 1 },
  },
  examples: [{ refund_id: "rf-1", lines: [{ line_id: "l1", qty: 1 }] }],
});

export const leg_schema = component("Leg", {
  type: "object",
  description: "One party's share of a payment or refund, with the rule that made it.",
  required: ["party_id", "role", "amount_minor", "rule_id", "basis_minor", "note"],
  properties: {
    party_id: { type: "string" },
    role: { type: "string" },
    amount_minor: signed_amount,
    rule_id: { type: "string" },
    line_id: { type: "string" },
    basis_minor: signed_amount,
    rate_bp: { type: "integer" },
    note: { type: "string" },
  },
});

const order_summary_properties = {
  id: { type: "string" },
  merchant_id: { type: "string" },
  currency: { type: "string" },
  paid_minor: amount,
  paid_at: instant,
  state: { enum: ["held", "completed", "released"] },
  refund_state: { enum: ["none", "partially_refunded", "refunded"] },
  refunded_minor: amount,
  completed_at: nullable_instant,
  releasable_at: nullable_instant,
  released_at: nullable_instant,
  policy_hash: { type: "string" },
  transaction_id: { type: "string" },
} as const;

export const order_summary_schema = component("OrderSummary", {
  type: "object",
  description: "An order in a list: its facts' totals and its state.",
  required: Object.keys(order_summary_properties),
  properties: order_summary_properties,
});

const order_view_properties = {
  ...order_summary_properties,
  legs: { type: "array", items: leg_schema },
  explanation: { type: "array", items: { type: "string" } },
  flags: { type: "array", items: { type: "string" } },
} as const;

export const order_view_schema = component("OrderView", {
  type: "object",
  description:
    "An order with its split as the caller may see it: the merchant and platform roles see every leg, another party its own.",
  required: Object.keys(order_view_properties),
  properties: order_view_properties,
  examples: [
    {
      id: "ord-1001",
      merchant_id: "m-acme",
      currency: "CNY",
      paid_minor: 10000,
      paid_at: "2026-11-25T10:00:00Z",
      state: "held",
      refund_state: "none",
      refunded_minor: 0,
      completed_at: null,
      releasable_at: null,
      released_at: null,
      policy_hash: "5f2c…",
      transaction_id: "01936f4e-…",
      legs: [
        {
          party_id: "m-acme",
          role: "merchant",
          amount_minor: 9440,
          rule_id: "merchant",
          basis_minor: 10000,
          note: "the rest",
        },
      ],
      explanation: ["paid 100.00 CNY"],
      flags: [],
    },
  ],
});

export const order_brief_schema = component("OrderBrief", {
  type: "object",
  description: "What a batch returns per booked order: ids, state and each leg's amount.",
  required: ["id", "transaction_id", "state", "paid_minor", "policy_hash", "legs"],
  properties: {
    id: { type: "string" },
    transaction_id: { type: "string" },
    state: { enum: ["held", "completed", "released"] },
    paid_minor: amount,
    policy_hash: { type: "string" },
    legs: {
      type: "array",
      items: {
        type: "object",
        required: ["party_id", "role", "amount_minor", "rule_id"],
        properties: {
          party_id: { type: "string" },
          role: { type: "string" },
          amount_minor: signed_amount,
          rule_id: { type: "string" },
          line_id: { type: "string" },
        },
      },
    },
  },
});

export const journal_transaction_schema = component("JournalTransaction", {
  type: "object",
  description: "A booked double-entry transaction; entries are signed (credit positive) and sum to zero.",
  required: ["id", "kind", "idempotency_key", "effective_at", "recorded_at", "entries"],
  properties: {
    id: { type: "string" },
    kind: { type: "string" },
    idempotency_key: { type: "string" },
    effective_at: instant,
    recorded_at: instant,
    order_id: nullable_string,
    event_id: nullable_string,
    policy_hash: nullable_string,
    hold_id: nullable_string,
    memo: nullable_string,
    entries: {
      type: "array",
      items: {
        type: "object",
        required: ["account_id", "amount_minor", "currency"],
        properties: { account_id: { type: "string" }, amount_minor: signed_amount, currency },
      },
    },
  },
});

const reversal_schema = {
  type: "object",
  required: ["refund_id", "order_id", "currency", "refund_minor", "policy_hash", "legs", "explanation"],
  properties: {
    refund_id: { type: "string" },
    order_id: { type: "string" },
    currency: { type: "string" },
    refund_minor: amount,
    policy_hash: { type: "string" },
    legs: { type: "array", items: leg_schema },
    explanation: { type: "array", items: { type: "string" } },
  },
} as const;

const refund_properties = {
  refund_id: { type: "string" },
  kind: { enum: ["refund", "chargeback"] },
  amount_minor: amount,
  before_release: { type: "boolean" },
  transaction_id: { type: "string" },
  created_at: instant,
  reversal: reversal_schema,
} as const;

export const refund_view_schema = component("Refund", {
  type: "object",
  description:
    "A refund: its amount, each party's proportional give-back and the transaction that booked it.",
  required: Object.keys(refund_properties),
  properties: refund_properties,
});

export const chargeback_view_schema = component("Chargeback", {
  type: "object",
  description: "A chargeback: a refund the payment provider forced, booked with its own kind.",
  required: Object.keys(refund_properties),
  properties: { ...refund_properties, kind: { const: "chargeback" } },
});

export const order_detail_schema = component("OrderDetail", {
  type: "object",
  description: "An order with its facts, split, refunds, journal transactions and audit holds.",
  required: [...Object.keys(order_view_properties), "blocked_by_case", "facts", "refunds", "transactions"],
  properties: {
    ...order_view_properties,
    blocked_by_case: {
      type: ["object", "null"],
      required: ["case_ids"],
      properties: { case_ids: { type: "array", items: { type: "string" } } },
    },
    facts: {
      type: "object",
      description: "The order's facts as booked (OrderInput).",
      additionalProperties: true,
    },
    refunds: { type: "array", items: refund_view_schema },
    transactions: { type: "array", items: journal_transaction_schema },
  },
});

export const batch_result_schema = component("OrderBatchResult", {
  type: "object",
  required: ["created", "replayed", "rejected", "results"],
  properties: {
    created: { type: "integer", minimum: 0 },
    replayed: { type: "integer", minimum: 0 },
    rejected: { type: "integer", minimum: 0 },
    results: {
      type: "array",
      items: {
        type: "object",
        required: ["index", "status"],
        properties: {
          index: { type: "integer", minimum: 0 },
          status: { enum: ["created", "replayed", "rejected"] },
          order: order_brief_schema,
          problem: problem_schema,
        },
      },
    },
  },
});

export const settlement_profile_view = {
  type: "object",
  description: "The party's settlement profile (cycle, minimum payout, currency, account, debt netting).",
  additionalProperties: true,
} as const;

const party_properties = {
  id: { type: "string" },
  kind: { enum: [...party_kinds] },
  name: { type: "string" },
  parent_id: nullable_string,
  status: { enum: ["active", "suspended", "inactive"] },
  settlement: settlement_profile_view,
  created_at: instant,
} as const;

export const party_view_schema = component("Party", {
  type: "object",
  description:
    "A party the marketplace owes shares to: merchant, supplier, referrer, platform, PSP, tax, logistics.",
  required: ["id", "kind", "name", "parent_id", "status", "settlement", "created_at"],
  properties: party_properties,
});

export const party_version_schema = component("PartyVersion", {
  type: "object",
  description: "A party after a change; every change is a new version.",
  required: ["id", "kind", "name", "parent_id", "status", "version", "settlement", "created_at"],
  properties: { ...party_properties, version: { type: "integer", minimum: 1 } },
});

export const balance_schema = component("Balance", {
  type: "object",
  description: "A party's balances in one currency, by step of the money's path.",
  required: [
    "currency",
    "held_minor",
    "available_minor",
    "in_transit_minor",
    "debt_minor",
    "pending_out_minor",
  ],
  properties: {
    currency,
    held_minor: signed_amount,
    available_minor: signed_amount,
    in_transit_minor: signed_amount,
    debt_minor: signed_amount,
    pending_out_minor: signed_amount,
  },
});

export const party_balances_schema = component("PartyBalances", {
  type: "object",
  required: ["party_id", "as_of", "balances"],
  properties: {
    party_id: { type: "string" },
    as_of: instant,
    balances: { type: "array", items: balance_schema },
  },
});

export const entry_schema = component("Entry", {
  type: "object",
  description: "One posting on one of the party's accounts (credit positive).",
  required: [
    "transaction_id",
    "seq",
    "kind",
    "purpose",
    "amount_minor",
    "currency",
    "effective_at",
    "recorded_at",
    "order_id",
  ],
  properties: {
    transaction_id: { type: "string" },
    seq: { type: "integer" },
    kind: { type: "string" },
    purpose: { enum: [...account_purposes] },
    amount_minor: signed_amount,
    currency,
    effective_at: instant,
    recorded_at: instant,
    order_id: nullable_string,
  },
});

export const policy_schema = component("Policy", {
  type: "object",
  description: "A split policy: a draft, or published and named by the SHA-256 of its canonical body.",
  required: ["id", "name", "status", "hash", "return_window_ms", "body", "created_at", "published_at"],
  properties: {
    id: { type: "string", format: "uuid" },
    name: { type: "string" },
    status: { enum: ["draft", "published"] },
    hash: { oneOf: [sha256_hex, { type: "null" }] },
    return_window_ms: { type: "integer", minimum: 0 },
    body: { type: "object", description: "The policy body (docs/splits.md).", additionalProperties: true },
    created_at: instant,
    published_at: nullable_instant,
  },
});

export const assignment_schema = component("PolicyAssignment", {
  type: "object",
  description: "A published policy in force for the tenant, a merchant or a category from an instant.",
  required: ["id", "scope", "scope_value", "policy_hash", "effective_from"],
  properties: {
    id: { type: "string", format: "uuid" },
    scope: { enum: ["tenant", "merchant", "category"] },
    scope_value: { type: "string", description: "The merchant id or category; empty for the tenant." },
    policy_hash: sha256_hex,
    effective_from: instant,
    created_at: instant,
  },
});

export const api_key_schema = component("ApiKey", {
  type: "object",
  description: "An API key's record; its secret is shown once, when it is created.",
  required: ["id", "name", "role", "party_id", "user_id", "created_at"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    role: { type: "string", enum: [...roles] },
    party_id: nullable_string,
    user_id: nullable_string,
    created_at: instant,
    last_used_at: nullable_instant,
    expires_at: nullable_instant,
    revoked_at: nullable_instant,
    revoked_reason: nullable_string,
  },
});

export const user_schema = component("User", {
  type: "object",
  description: "A console user: a login, a role, a party for merchants and suppliers.",
  required: ["id", "email", "role", "party_id"],
  properties: {
    id: { type: "string" },
    email: nullable_string,
    role: { type: "string", enum: [...roles] },
    party_id: nullable_string,
    disabled_at: nullable_instant,
    created_at: instant,
  },
});

/** An open object for a response whose fields the service defines (documented by its summary). */
export function objectSchema(description: string, properties: Record<string, unknown> = {}): JsonSchema {
  return { type: "object", description, properties, additionalProperties: true };
}

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
export function pageSchema(item: object | ComponentRef) {
  return {
    type: "object",
    required: ["items", "next_cursor"],
    properties: { items: { type: "array", items: item }, next_cursor: next_cursor_schema },
  } as const;
}

/** The response of a short unpaged list: `{ items }`. */
export function itemsSchema(item: object | ComponentRef) {
  return {
    type: "object",
    required: ["items"],
    properties: { items: { type: "array", items: item } },
  } as const;
}

export const instant_query = {
  type: "string",
  format: "date-time",
  maxLength: timestamp_length_max,
} as const;

export const idempotency_header = {
  type: "object",
  properties: { "idempotency-key": { type: "string", minLength: 1, maxLength: idempotency_key_length_max } },
} as const;

/** A response in other media types than JSON (files, text), each with its schema. */
export function mediaResponse(description: string, media: Record<string, object>) {
  return {
    description,
    content: Object.fromEntries(Object.entries(media).map(([type, schema]) => [type, { schema }])),
  };
}

export const text_body = { type: "string" } as const;
export const binary_body = { type: "string", contentMediaType: "application/octet-stream" } as const;

/** A report: JSON by default, or the file the `format` query asks for. */
export function reportResponse(json: object) {
  return mediaResponse("The report: JSON, or the file `format` asks for", {
    "application/json": json,
    "text/csv": text_body,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary_body,
    "application/pdf": binary_body,
  });
}
