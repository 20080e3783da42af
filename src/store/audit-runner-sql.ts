import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// SQL of the audit runner (service/audit/runner.ts): its cursor over the event
// stream, and the history facts its rules need, read for a whole round of
// events at once (one statement per fact, whatever the round's size) so the
// runner's cost per order is a share of a few statements, not five of its own.
// Every batched read takes its items with their ordinal and answers by it.

// The merchant reads below compare rows led by merchant_id, `(merchant_id,
// paid_at, id) < (…)`, not `(paid_at, id) < (…)`: only orders_merchant_paid
// (and order_refunds_merchant_created) can take such a comparison as an index
// condition. Written on paid_at alone, a generic plan with no statistics (this
// machine runs autovacuum off; a new tenant has none either) scanned
// orders_paid_at over every merchant's orders before the probe's instant and
// sorted them: 4.8 ms a probe at 7,000 simulated operations, growing with the
// books (docs/decisions.md §41). select-history-plan.test.ts holds the shape.

/** $1 tenant, $2 merchant ids, $3 paid_at, $4 order ids, $5 limit: the paid amounts before each probe, newest first. */
export const merchant_recent_paid_sql = `SELECT p.ord::text AS ord, r.paid_minor
       FROM unnest($2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS p(merchant_id, paid_at, order_id, ord)
       CROSS JOIN LATERAL (
         SELECT paid_minor, paid_at, id FROM orders
          WHERE tenant_id = $1 AND merchant_id = p.merchant_id
            AND (merchant_id, paid_at, id) < (p.merchant_id, p.paid_at, p.order_id)
          ORDER BY paid_at DESC, id DESC LIMIT $5) AS r
      ORDER BY p.ord, r.paid_at DESC, r.id DESC`;

/** $1 tenant, $2–$4 as above, $5 since, $6 cap: the merchant's orders in (since, probe], at most cap. */
export const merchant_orders_in_window_sql = `SELECT (SELECT count(*) FROM (
              SELECT 1 FROM orders WHERE tenant_id = $1 AND merchant_id = p.merchant_id
                 AND (merchant_id, paid_at) > (p.merchant_id, p.since)
                 AND (merchant_id, paid_at, id) <= (p.merchant_id, p.paid_at, p.order_id) LIMIT $6) AS capped)::int8 AS count
       FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::timestamptz[]) WITH ORDINALITY
              AS p(merchant_id, paid_at, order_id, since, ord)
      ORDER BY p.ord`;

/** $1 tenant, $2 merchant ids, $3 since, $4 until: the merchant's orders paid and refunds made in (since, until]. */
export const merchant_refund_window_sql = `SELECT (SELECT count(*) FROM orders
               WHERE tenant_id = $1 AND merchant_id = p.merchant_id
                 AND (merchant_id, paid_at) > (p.merchant_id, p.since)
                 AND (merchant_id, paid_at) <= (p.merchant_id, p.until))::int8 AS orders,
            (SELECT count(*) FROM order_refunds r
               WHERE r.tenant_id = $1 AND r.merchant_id = p.merchant_id
                 AND (r.merchant_id, r.created_at) > (p.merchant_id, p.since)
                 AND (r.merchant_id, r.created_at) <= (p.merchant_id, p.until))::int8 AS refunds
       FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS p(merchant_id, since, until, ord)
      ORDER BY p.ord`;

export interface StreamRow {
  seq: bigint;
  id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
  [key: string]: unknown;
}

export async function selectAuditCursor(tx: Queryable, tenant_id: string): Promise<bigint> {
  const [cursor] = await tx.query<{ seq: bigint }>("SELECT seq FROM audit_cursors WHERE tenant_id = $1", [
    tenant_id,
  ]);
  return BigInt(cursor?.seq ?? 0n);
}

export async function selectEventsAfter(
  tx: Queryable,
  tenant_id: string,
  after: bigint,
  limit: number,
): Promise<StreamRow[]> {
  return tx.query<StreamRow>(
    `SELECT s.seq, e.id::text AS id, e.type, e.payload, e.created_at
       FROM event_seqs s CROSS JOIN LATERAL (
         SELECT id, type, payload, created_at FROM events WHERE tenant_id = $1 AND id = s.event_id LIMIT 1) e
      WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`,
    [tenant_id, after, limit],
  );
}

export async function upsertAuditCursor(
  tx: Queryable,
  tenant_id: string,
  seq: bigint,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO audit_cursors (tenant_id, seq, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
    [tenant_id, seq, now],
  );
}

export interface OrderFactsRow {
  id: string;
  merchant_id: string;
  currency: string;
  paid_minor: bigint;
  paid_at: Date;
  buyer_ref: string | null;
  [key: string]: unknown;
}

/** The orders named, by id; absent ids are absent from the map. */
export async function selectOrderFacts(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Map<string, OrderFactsRow>> {
  if (order_ids.length === 0) return new Map();
  const rows = await tx.query<OrderFactsRow>(
    `SELECT o.* FROM unnest($2::text[]) AS k(id) CROSS JOIN LATERAL (
       SELECT id, merchant_id, currency::text AS currency, paid_minor, paid_at, facts->>'buyer_ref' AS buyer_ref
         FROM orders WHERE tenant_id = $1 AND id = k.id LIMIT 1) AS o`,
    [tenant_id, [...new Set(order_ids)]],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

export interface BuyerOrder {
  buyer_ref: string;
  paid_at: Date;
  order_id: string;
}

export async function insertBuyerOrders(
  tx: Queryable,
  tenant_id: string,
  rows: readonly BuyerOrder[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO audit_buyer_orders (tenant_id, buyer_ref, paid_at, order_id)
     SELECT $1, r.buyer_ref, r.paid_at, r.order_id
       FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS r(buyer_ref, paid_at, order_id)
     ON CONFLICT DO NOTHING`,
    [
      tenant_id,
      rows.map((row) => row.buyer_ref),
      rows.map((row) => row.paid_at),
      rows.map((row) => row.order_id),
    ],
  );
}

export interface MerchantOrderProbe {
  merchant_id: string;
  paid_at: Date;
  order_id: string;
}

/** For each probe, the paid amounts of the merchant's `limit` orders before it, newest first. */
export async function selectMerchantRecentPaid(
  tx: Queryable,
  tenant_id: string,
  probes: readonly MerchantOrderProbe[],
  limit: number,
): Promise<bigint[][]> {
  assert(limit >= 1, "limit must be positive");
  const out: bigint[][] = probes.map(() => []);
  if (probes.length === 0) return out;
  const rows = await tx.query<{ ord: string; paid_minor: bigint }>(merchant_recent_paid_sql, [
    ...probeArrays(tenant_id, probes),
    limit,
  ]);
  for (const row of rows) out[Number(row.ord) - 1]!.push(BigInt(row.paid_minor));
  return out;
}

/**
 * For each probe, how many of the merchant's orders were paid in (since, paid_at],
 * up to and including the probe's own order in (paid_at, id) order; at most `cap`.
 */
export async function countMerchantOrdersInWindow(
  tx: Queryable,
  tenant_id: string,
  probes: readonly (MerchantOrderProbe & { since: Date })[],
  cap: number,
): Promise<number[]> {
  if (probes.length === 0) return [];
  const rows = await tx.query<{ count: bigint }>(merchant_orders_in_window_sql, [
    ...probeArrays(tenant_id, probes),
    probes.map((probe) => probe.since),
    cap,
  ]);
  assert(rows.length === probes.length, "one count per probe");
  return rows.map((row) => Number(row.count));
}

function probeArrays(tenant_id: string, probes: readonly MerchantOrderProbe[]): unknown[] {
  return [
    tenant_id,
    probes.map((probe) => probe.merchant_id),
    probes.map((probe) => probe.paid_at),
    probes.map((probe) => probe.order_id),
  ];
}

/**
 * For each buyer order of a round, in the round's order, how many of the
 * buyer's orders were paid in (since, paid_at] up to and including it (at most
 * `cap`), as if the round's orders were recorded one by one just before each
 * was counted: the rows recorded before the round, plus the round's own rows
 * not recorded before that come at or before it in the round. Call it before
 * insertBuyerOrders records the round.
 */
export async function countBuyerOrdersInWindow(
  tx: Queryable,
  tenant_id: string,
  round: readonly (BuyerOrder & { since: Date })[],
  cap: number,
): Promise<number[]> {
  if (round.length === 0) return [];
  const rows = await tx.query<{ count: bigint }>(
    `WITH round AS (
       SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::timestamptz[]) WITH ORDINALITY
                AS r(buyer_ref, paid_at, order_id, since, ord)),
     fresh AS (
       SELECT DISTINCT ON (buyer_ref, paid_at, order_id) buyer_ref, paid_at, order_id, ord FROM round r
        WHERE NOT EXISTS (
          SELECT 1 FROM audit_buyer_orders a
           WHERE a.tenant_id = $1 AND a.buyer_ref = r.buyer_ref AND a.paid_at = r.paid_at AND a.order_id = r.order_id)
        ORDER BY buyer_ref, paid_at, order_id, ord)
     SELECT (SELECT count(*) FROM (
              (SELECT 1 FROM audit_buyer_orders a
                WHERE a.tenant_id = $1 AND a.buyer_ref = r.buyer_ref AND a.paid_at > r.since
                  AND (a.paid_at, a.order_id) <= (r.paid_at, r.order_id) LIMIT $6)
              UNION ALL
              (SELECT 1 FROM fresh f
                WHERE f.buyer_ref = r.buyer_ref AND f.ord <= r.ord AND f.paid_at > r.since
                  AND (f.paid_at, f.order_id) <= (r.paid_at, r.order_id))) AS counted)::int8 AS count
       FROM round r ORDER BY r.ord`,
    [
      tenant_id,
      round.map((row) => row.buyer_ref),
      round.map((row) => row.paid_at),
      round.map((row) => row.order_id),
      round.map((row) => row.since),
      cap,
    ],
  );
  assert(rows.length === round.length, "one count per buyer order");
  return rows.map((row) => Math.min(Number(row.count), cap));
}

export interface RefundWindowProbe {
  merchant_id: string;
  since: Date;
  until: Date;
}

/** For each probe, the merchant's orders paid and refunds made in (since, until]. */
export async function countMerchantRefundWindow(
  tx: Queryable,
  tenant_id: string,
  probes: readonly RefundWindowProbe[],
): Promise<{ orders: number; refunds: number }[]> {
  if (probes.length === 0) return [];
  const rows = await tx.query<{ orders: bigint; refunds: bigint }>(merchant_refund_window_sql, [
    tenant_id,
    probes.map((probe) => probe.merchant_id),
    probes.map((probe) => probe.since),
    probes.map((probe) => probe.until),
  ]);
  assert(rows.length === probes.length, "one pair of counts per probe");
  return rows.map((row) => ({ orders: Number(row.orders), refunds: Number(row.refunds) }));
}

/** The posted balance of each party's debt accounts in a currency, keyed `party_id currency`. */
export async function selectDebtPosted(
  tx: Queryable,
  tenant_id: string,
  keys: readonly { party_id: string; currency: string }[],
): Promise<Map<string, bigint>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.query<{ party_id: string; currency: string; posted: bigint }>(
    `SELECT k.party_id, k.currency,
            (SELECT coalesce(sum(b.posted_minor), 0) FROM accounts a
               JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
              WHERE a.tenant_id = $1 AND a.party_id = k.party_id AND a.purpose = 'debt' AND a.currency = k.currency)::int8
              AS posted
       FROM (SELECT DISTINCT * FROM unnest($2::text[], $3::text[]) AS u(party_id, currency)) AS k`,
    [tenant_id, keys.map((key) => key.party_id), keys.map((key) => key.currency)],
  );
  return new Map(rows.map((row) => [debtKey(row), BigInt(row.posted)]));
}

export function debtKey(key: { party_id: string; currency: string }): string {
  return `${key.party_id} ${key.currency}`;
}
