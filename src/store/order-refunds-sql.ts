import type { ReversalJson } from "../core/split/index.ts";
import type { Queryable } from "./database.ts";

// The one home of the writes a refund or chargeback makes to `orders` and
// `order_refunds`, and the refunds' read.

export interface OrderRefundRow {
  order_id: string;
  /** The order's merchant, kept on the refund for the audit runner's refund-rate window (migration 117). */
  merchant_id: string;
  refund_id: string;
  kind: "refund" | "chargeback";
  amount_minor: number;
  /** The request as JSON text, and the SHA-256 that tells a replay from a conflict. */
  request_json: string;
  request_sha256: string;
  reversal_json: string;
  transaction_id: string;
  before_release: boolean;
  created_at: Date;
}

/** Records a refund and the order's new refunded total, in the caller's transaction. */
export async function insertOrderRefund(
  tx: Queryable,
  tenant_id: string,
  row: OrderRefundRow,
  refunded_minor: bigint,
): Promise<void> {
  await tx.query("UPDATE orders SET refunded_minor = $3 WHERE tenant_id = $1 AND id = $2", [
    tenant_id,
    row.order_id,
    refunded_minor,
  ]);
  await tx.query(
    `INSERT INTO order_refunds (tenant_id, order_id, refund_id, kind, amount_minor, request, request_sha256, reversal,
                                transaction_id, before_release, created_at, merchant_id)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10, $11, $12)`,
    [
      tenant_id,
      row.order_id,
      row.refund_id,
      row.kind,
      row.amount_minor,
      row.request_json,
      row.request_sha256,
      row.reversal_json,
      row.transaction_id,
      row.before_release,
      row.created_at,
      row.merchant_id,
    ],
  );
}

/** A stored refund or chargeback, with the request that made it. */
export interface StoredRefund {
  refund_id: string;
  kind: "refund" | "chargeback";
  amount_minor: bigint;
  before_release: boolean;
  transaction_id: string;
  created_at: Date;
  reversal: ReversalJson;
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
