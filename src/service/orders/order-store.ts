import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { EventType } from "../../core/event-catalogue.ts";
import { type AllocationJson, loadPolicy } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import type { WriteStep } from "../../store/write-set.ts";
import type { EventInput } from "../events/event-enqueue.ts";
import { legPartyIds } from "./allocation.ts";
import { type OrderRow, order_columns, type RefundView } from "./view.ts";

// Reads shared by the order use cases, each inside the caller's transaction.

export async function policyBody(tx: Queryable, tenant_id: string, hash: string): Promise<unknown> {
  const [row] = await tx.query<{ body: unknown }>(
    "SELECT body FROM policies WHERE tenant_id = $1 AND hash = $2",
    [tenant_id, hash],
  );
  assert(row !== undefined, `policy ${hash} is missing`);
  return row.body;
}

export async function platformOf(tx: Queryable, tenant_id: string, hash: string): Promise<string> {
  const { policy } = loadPolicy(await policyBody(tx, tenant_id, hash));
  return policy.parties.platform;
}

export async function lockOrder(tx: Queryable, tenant_id: string, order_id: string): Promise<OrderRow> {
  const [row] = await tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenant_id, order_id],
  );
  if (row === undefined)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(order_id)}`, "id");
  return row;
}

export interface StoredRefund extends RefundView {
  request: unknown;
  request_sha256: string;
}

export async function selectRefunds(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Map<string, StoredRefund[]>> {
  const rows = await tx.query<StoredRefund & { order_id: string } & Record<string, unknown>>(
    `SELECT order_id, refund_id, kind, amount_minor, request, request_sha256, reversal, transaction_id::text AS transaction_id,
            before_release, created_at
       FROM order_refunds WHERE tenant_id = $1 AND order_id = ANY($2::text[]) ORDER BY transaction_id`,
    [tenant_id, order_ids],
  );
  const result = new Map<string, StoredRefund[]>();
  for (const { order_id, ...refund } of rows) {
    const list = result.get(order_id) ?? [];
    list.push(refund as StoredRefund);
    result.set(order_id, list);
  }
  return result;
}

export function orderEvent(
  type: EventType,
  row: OrderRow,
  allocation: AllocationJson,
  extra: Record<string, unknown>,
): EventInput {
  return {
    type,
    party_ids: legPartyIds(allocation),
    payload: { order_id: row.id, merchant_id: row.merchant_id, ...extra },
  };
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
