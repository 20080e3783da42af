import type { Queryable } from "./database.ts";

// The reads of an audit back-test (service/audit/backtest.ts): the orders and
// refunds of a past period, and the buyers' orders its velocity rule counts.
// They read `orders` and `order_refunds` by time, which no other use case
// does, so they live together here rather than in those tables' homes.

/** Orders paid in [from, to), oldest first, at most `limit`. */
export function selectOrdersPaidBetween(
  db: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
  limit: number,
): Promise<{ id: string; facts: unknown; created_at: Date; paid_at: Date }[]> {
  return db.query<{ id: string; facts: unknown; created_at: Date; paid_at: Date }>(
    `SELECT id, facts, created_at, paid_at FROM orders WHERE tenant_id = $1 AND paid_at >= $2 AND paid_at < $3
      ORDER BY paid_at, id LIMIT $4`,
    [tenant_id, period.from, period.to, limit],
  );
}

/** Refunds made in [from, to), oldest first, at most `limit`. */
export function selectRefundsBetween(
  db: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
  limit: number,
): Promise<{ order_id: string; refund_id: string; amount_minor: bigint; created_at: Date }[]> {
  return db.query<{ order_id: string; refund_id: string; amount_minor: bigint; created_at: Date }>(
    `SELECT order_id, refund_id, amount_minor, created_at FROM order_refunds
      WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at LIMIT $4`,
    [tenant_id, period.from, period.to, limit],
  );
}

/** Orders with a buyer paid after `after` and up to the order (paid_at, id) `until`, oldest first, at most `limit`. */
export function selectBuyerOrdersBetween(
  db: Queryable,
  tenant_id: string,
  after: Date,
  until: { paid_at: Date; id: string },
  limit: number,
): Promise<{ id: string; buyer_ref: string; paid_at: Date }[]> {
  return db.query<{ id: string; buyer_ref: string; paid_at: Date }>(
    `SELECT id, facts->>'buyer_ref' AS buyer_ref, paid_at FROM orders
      WHERE tenant_id = $1 AND paid_at > $2 AND (paid_at, id) <= ($3::timestamptz, $4::text)
        AND facts->>'buyer_ref' IS NOT NULL
      ORDER BY paid_at, id LIMIT $5`,
    [tenant_id, after, until.paid_at, until.id, limit],
  );
}
