import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";
import type { WriteStep } from "./write-set.ts";

// The one home of the `orders` table's row, select list and shared queries
// (decisions §29): the booking's insert step, the lookup by ids and the lock
// of one order. A refund's writes are in ./order-refunds-sql.ts.

export interface OrderRow {
  id: string;
  merchant_id: string;
  currency: string;
  paid_minor: bigint;
  paid_at: Date;
  facts: unknown;
  facts_sha256: string;
  policy_hash: string;
  transaction_id: string;
  refunded_minor: bigint;
  completed_at: Date | null;
  releasable_at: Date | null;
  released_at: Date | null;
  release_transaction_id: string | null;
  created_at: Date;
  /** Referrers that were not parties when the order was booked; their share went to the platform. */
  referrers_unknown: string[] | null;
}

const order_column_list = [
  "id",
  "merchant_id",
  "currency::text AS currency",
  "paid_minor",
  "paid_at",
  "facts",
  "facts_sha256",
  "policy_hash",
  "transaction_id::text AS transaction_id",
  "refunded_minor",
  "completed_at",
  "releasable_at",
  "released_at",
  "release_transaction_id::text AS release_transaction_id",
  "created_at",
  "referrers_unknown",
];

/** The select list for an OrderRow, optionally qualified by a table alias. */
export function orderColumns(alias?: string): string {
  return order_column_list.map((column) => (alias === undefined ? column : `${alias}.${column}`)).join(", ");
}

export const order_columns = orderColumns();

/** The order, locked for the caller's transaction (FOR UPDATE); undefined when there is none. */
export async function selectOrderForUpdate(
  tx: Queryable,
  tenant_id: string,
  order_id: string,
): Promise<OrderRow | undefined> {
  const [row] = await tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenant_id, order_id],
  );
  return row;
}

/**
 * New order rows, each stored with its facts in canonical JSON text
 * (`facts_json`, in the same order) and its split's pieces by party and kind
 * (`split_pieces_json`, JSON text or null; migration 056).
 */
export function ordersWrite(
  tenant_id: string,
  rows: readonly OrderRow[],
  facts_json: readonly string[],
  split_pieces_json: readonly (string | null)[] = [],
): WriteStep | null {
  assert(rows.length === facts_json.length, "every order row has its facts");
  assert(
    split_pieces_json.length === 0 || split_pieces_json.length === rows.length,
    "pieces for every row or none",
  );
  if (rows.length === 0) return null;
  return {
    ctes: [
      [
        "order_rows",
        `INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256, policy_hash,
                             transaction_id, created_at, referrers_unknown, split_pieces)
         SELECT $1, o.id, o.merchant_id, o.currency, o.paid_minor, o.paid_at, o.facts, o.facts_sha256, o.policy_hash,
                o.transaction_id, $11::timestamptz, NULLIF(o.referrers_unknown, 'null'::jsonb),
                NULLIF(o.split_pieces, 'null'::jsonb)
           FROM ROWS FROM (unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::int8[]),
                           unnest($6::timestamptz[]), jsonb_array_elements($7::text::jsonb), unnest($8::text[]),
                           unnest($9::text[]), unnest($10::uuid[]), jsonb_array_elements($12::text::jsonb),
                           jsonb_array_elements($13::text::jsonb))
                AS o(id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256, policy_hash, transaction_id,
                     referrers_unknown, split_pieces)
         ON CONFLICT (tenant_id, id) DO NOTHING RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      rows.map((r) => r.id),
      rows.map((r) => r.merchant_id),
      rows.map((r) => r.currency),
      rows.map((r) => r.paid_minor),
      rows.map((r) => r.paid_at),
      // The facts go as one JSON array, not as a text[] of JSON documents:
      // no quote in them needs escaping into an array literal, and PostgreSQL
      // parses them once instead of unescaping and then parsing each.
      `[${facts_json.join(",")}]`,
      rows.map((r) => r.facts_sha256),
      rows.map((r) => r.policy_hash),
      rows.map((r) => r.transaction_id),
      rows[0]!.created_at,
      JSON.stringify(rows.map((r) => r.referrers_unknown)),
      `[${rows.map((_, index) => split_pieces_json[index] ?? "null").join(",")}]`,
    ],
    expect: { rows: rows.length, retry: "an order id was taken concurrently" },
  };
}

// One primary-key probe per id, whatever the statistics say. With
// `id = ANY($2)` the planner may instead scan all of the tenant's orders
// through another index and test each against the whole array: when its
// statistics are stale (autovacuum off or behind a fast-growing table) that
// plan looks cheap, and it costs O(orders × ids). LIMIT 1 keeps the lateral
// subquery from being flattened into a join the planner could reorder.
export const select_orders_sql = `SELECT o.* FROM unnest($2::text[]) AS k(id)
  CROSS JOIN LATERAL (SELECT ${order_columns} FROM orders WHERE tenant_id = $1 AND id = k.id LIMIT 1) AS o`;

export async function selectOrders(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, OrderRow>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<OrderRow & Record<string, unknown>>(select_orders_sql, [tenant_id, ids]);
  return new Map(rows.map((row) => [row.id, row]));
}

/** What a manual flag needs of an order, locked for the caller's transaction; undefined when there is none. */
export async function selectOrderAmountForUpdate(
  tx: Queryable,
  tenant_id: string,
  order_id: string,
): Promise<{ merchant_id: string; paid_minor: bigint; currency: string } | undefined> {
  const [row] = await tx.query<{ merchant_id: string; paid_minor: bigint; currency: string }>(
    "SELECT merchant_id, paid_minor, currency::text AS currency FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
    [tenant_id, order_id],
  );
  return row;
}

/** The order if `party_id` is on it (clearsplit_order_has_party); another party's is undefined, like a missing one. */
export async function selectOrderOfParty(
  tx: Queryable,
  tenant_id: string,
  order_id: string,
  party_id: string,
): Promise<{ paid_minor: bigint; currency: string; merchant_id: string } | undefined> {
  const [row] = await tx.query<{ paid_minor: bigint; currency: string; merchant_id: string }>(
    `SELECT paid_minor, currency::text AS currency, merchant_id FROM orders o
      WHERE tenant_id = $1 AND id = $2 AND clearsplit_order_has_party(o.tenant_id, o.id, $3)`,
    [tenant_id, order_id, party_id],
  );
  return row;
}

/** The orders with their policy's return window, locked for the caller's transaction, by id. */
export function selectOrdersWithReturnWindowForUpdate(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<(OrderRow & { return_window_ms: bigint })[]> {
  return tx.query<OrderRow & { return_window_ms: bigint } & Record<string, unknown>>(
    `SELECT ${orderColumns("o")}, p.return_window_ms
       FROM orders o JOIN policies p ON p.tenant_id = o.tenant_id AND p.hash = o.policy_hash
      WHERE o.tenant_id = $1 AND o.id = ANY($2::text[]) ORDER BY o.id FOR UPDATE OF o`,
    [tenant_id, order_ids],
  );
}

/** Records completions: each order completed at `completed_at`, releasable at its own instant. */
export async function updateOrdersCompleted(
  tx: Queryable,
  tenant_id: string,
  completed_at: Date,
  orders: readonly { id: string; releasable_at: Date }[],
): Promise<void> {
  await tx.query(
    `UPDATE orders o SET completed_at = $2, releasable_at = c.releasable_at
       FROM unnest($3::text[], $4::timestamptz[]) AS c(id, releasable_at)
      WHERE o.tenant_id = $1 AND o.id = c.id`,
    [tenant_id, completed_at, orders.map((order) => order.id), orders.map((order) => order.releasable_at)],
  );
}
