import { assert } from "../core/assert.ts";
import { orderBlockedByCaseSql, orderHeldLateralSql } from "./audit-holds-sql.ts";
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

/**
 * SQL true when party `party` is on order row `o` of tenant `tenant` (both as
 * the query names them): the question of clearsplit_order_has_party
 * (migration 007). On one node the function is called; on Citus (issue 20),
 * which cannot plan a SQL function's parameterised body over sharded tables,
 * the same question is asked inline, every lookup naming the tenant.
 */
function orderHasPartySql(db: Queryable, o: string, tenant: string, party: string): string {
  if (db.sharded !== true) return `clearsplit_order_has_party(${o}.tenant_id, ${o}.id, ${party})`;
  return `(${o}.merchant_id = ${party}
    OR EXISTS (SELECT 1 FROM order_parties op
                WHERE op.tenant_id = ${tenant} AND op.order_id = ${o}.id AND op.party_id = ${party})
    OR (EXISTS (SELECT 1 FROM parties pa WHERE pa.tenant_id = ${tenant} AND pa.id = ${party}
                   AND pa.kind IN ('platform', 'psp', 'tax', 'logistics'))
        AND EXISTS (SELECT 1 FROM postings p JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
                     WHERE p.tenant_id = ${tenant} AND a.tenant_id = ${tenant}
                       AND p.transaction_id = ${o}.transaction_id AND a.party_id = ${party})))`;
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
      WHERE tenant_id = $1 AND id = $2 AND ${orderHasPartySql(tx, "o", "$1", "$3")}`,
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
    // One primary-key probe per id, as the booking's lookup (decisions §13,
    // §42), locking in id order: the ids are sorted (and made distinct)
    // before the probes, which run in that order. The policies are named by
    // the tenant parameter too, so Citus routes the whole statement.
    `SELECT ${orderColumns("o")}, p.return_window_ms
       FROM (SELECT DISTINCT id FROM unnest($2::text[]) AS u(id) ORDER BY id) AS k
       CROSS JOIN LATERAL (SELECT * FROM orders WHERE tenant_id = $1 AND id = k.id LIMIT 1 FOR UPDATE) AS o
       JOIN policies p ON p.tenant_id = $1 AND p.hash = o.policy_hash
      ORDER BY o.id`,
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

const release_probes = orderHeldLateralSql("d", "$1");
/** The release scan ($1 tenant, $2 now, $3 limit); exported for its plan test. */
export const release_due_sql = `SELECT d.*, ${release_probes.held} AS held
  FROM (SELECT ${order_columns} FROM orders
         WHERE tenant_id = $1 AND released_at IS NULL AND releasable_at <= $2 AND NOT release_parked
         ORDER BY releasable_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) d
  ${release_probes.joins}
 ORDER BY d.releasable_at, d.id`;

/**
 * Up to `limit` due orders (releasable by `now`, not released, not parked), locked and skipped by
 * other releasers, each with whether an open case holds it now (decisions §45): the caller releases
 * the free ones and parks the held ones, so the next round's scan no longer walks them.
 */
export function selectDueForUpdate(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  limit: number,
): Promise<(OrderRow & { held: boolean })[]> {
  return tx.query<OrderRow & { held: boolean } & Record<string, unknown>>(release_due_sql, [
    tenant_id,
    now,
    limit,
  ]);
}

/**
 * Parks these due orders, each only if an open case still holds it in this statement's snapshot (a
 * case decided since the scan read it leaves its order unparked, for the round to release). Returns
 * the ids parked.
 */
export async function updateOrdersParked(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<string[]> {
  if (order_ids.length === 0) return [];
  const rows = await tx.query<{ id: string }>(
    `UPDATE orders SET release_parked = true
      WHERE tenant_id = $1 AND id = ANY($2::text[]) AND released_at IS NULL
        AND ${orderBlockedByCaseSql("orders", "id", "merchant_id", "$1")}
      RETURNING id`,
    [tenant_id, order_ids],
  );
  return rows.map((row) => row.id);
}

/**
 * Unparks the orders a case may have held: its order, or for a party-level case its merchant's
 * parked orders. The next release round judges them again (another open case re-parks them).
 */
export async function updateOrdersUnparkedForCase(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
): Promise<number> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE orders o SET release_parked = false
       FROM audit_cases c
      WHERE c.tenant_id = $1 AND c.id = $2::uuid AND o.tenant_id = $1 AND o.release_parked
        AND ((c.order_id IS NOT NULL AND o.id = c.order_id)
          OR (c.order_id IS NULL AND c.party_id IS NOT NULL AND o.merchant_id = c.party_id))
      RETURNING o.id`,
    [tenant_id, case_id],
  );
  return rows.length;
}

/** Records releases: each order released at `now` by its release transaction (null: nothing was held). */
export async function updateOrdersReleased(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  order_ids: readonly string[],
  transaction_ids: readonly (string | null)[],
): Promise<void> {
  assert(order_ids.length === transaction_ids.length, "a release transaction (or null) per order");
  await tx.query(
    `UPDATE orders o SET released_at = $2, release_transaction_id = r.transaction_id
       FROM unnest($3::text[], $4::uuid[]) AS r(id, transaction_id)
      WHERE o.tenant_id = $1 AND o.id = r.id`,
    [tenant_id, now, order_ids, transaction_ids],
  );
}

/** The order as `party_id` may see it (null: any order of the tenant); undefined otherwise. */
export async function selectOrderForParty(
  db: Queryable,
  tenant_id: string,
  order_id: string,
  party_id: string | null,
): Promise<OrderRow | undefined> {
  const [row] = await db.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders o WHERE o.tenant_id = $1 AND o.id = $2
        AND ($3::text IS NULL OR ${orderHasPartySql(db, "o", "$1", "$3")})`,
    [tenant_id, order_id, party_id],
  );
  return row;
}

/**
 * How a party's orders are found: none asked; through the journal, for a
 * party with a leg in most orders (a shared kind); or through order_parties'
 * index, for a merchant, supplier or referrer (migration 007).
 */
export type OrderPartyMatch = "none" | "shared" | "indexed";

export interface OrderListQuery {
  party_match: OrderPartyMatch;
  party_id: string | null;
  merchant_id: string | null;
  paid_from: Date | null;
  paid_to: Date | null;
  state: string | null;
  before: { paid_at: Date; id: string } | null;
  limit: number;
}

/** Orders newest first (paid_at, id), filtered, before the cursor's key; `limit` rows. */
export function selectOrderPage(
  db: Queryable,
  tenant_id: string,
  query: OrderListQuery,
): Promise<OrderRow[]> {
  assert(query.limit >= 1, "a page reads at least one row");
  const party_filter =
    query.party_match === "none"
      ? "$2::text IS NULL"
      : query.party_match === "shared"
        ? orderHasPartySql(db, "o", "$1", "$2::text")
        : `EXISTS (SELECT 1 FROM order_parties p WHERE p.tenant_id = $1 AND p.order_id = o.id
                      AND p.party_id = $2::text)`;
  return db.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders o
      WHERE o.tenant_id = $1
        AND ${party_filter}
        AND ($3::text IS NULL OR o.merchant_id = $3)
        AND ($4::timestamptz IS NULL OR o.paid_at >= $4)
        AND ($5::timestamptz IS NULL OR o.paid_at < $5)
        AND ($6::text IS NULL
             OR ($6 = 'held' AND o.completed_at IS NULL AND o.released_at IS NULL)
             OR ($6 = 'completed' AND o.completed_at IS NOT NULL AND o.released_at IS NULL)
             OR ($6 = 'released' AND o.released_at IS NOT NULL)
             OR ($6 = 'partially_refunded' AND o.refunded_minor > 0 AND o.refunded_minor < o.paid_minor)
             OR ($6 = 'refunded' AND o.refunded_minor = o.paid_minor))
        AND ($7::timestamptz IS NULL OR (o.paid_at, o.id) < ($7::timestamptz, $8::text))
      ORDER BY o.paid_at DESC, o.id DESC
      LIMIT $9`,
    [
      tenant_id,
      query.party_id,
      query.merchant_id,
      query.paid_from,
      query.paid_to,
      query.state,
      query.before?.paid_at ?? null,
      query.before?.id ?? "",
      query.limit,
    ],
  );
}

export async function tenantHasOrders(db: Queryable, tenant_id: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM orders WHERE tenant_id = $1 LIMIT 1", [tenant_id]);
  return rows.length > 0;
}

/** The largest unreleased orders, largest first: what the demo's audit cases are opened on. */
export function selectLargestHeldOrders(
  db: Queryable,
  tenant_id: string,
  limit: number,
): Promise<{ id: string; merchant_id: string; paid_minor: bigint }[]> {
  return db.query<{ id: string; merchant_id: string; paid_minor: bigint }>(
    `SELECT id, merchant_id, paid_minor FROM orders WHERE tenant_id = $1 AND released_at IS NULL
      ORDER BY paid_minor DESC, id LIMIT $2`,
    [tenant_id, limit],
  );
}
