import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { type AllocationJson, loadPolicy } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import type { EventInput } from "../events/enqueue.ts";
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
  type: string,
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
