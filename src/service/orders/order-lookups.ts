import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { EventType } from "../../core/event-catalogue.ts";
import { type AllocationJson, loadPolicy } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { type OrderRow, selectOrderForUpdate } from "../../store/orders-sql.ts";
import { selectPolicyBody } from "../../store/policies-sql.ts";
import type { EventInput } from "../events/event-enqueue.ts";
import { legPartyIds } from "./allocation.ts";

// What the order use cases share, each inside the caller's transaction: the policy an
// order was booked under, its platform party, the locked order, and its events.

export async function policyBody(tx: Queryable, tenant_id: string, hash: string): Promise<unknown> {
  const body = await selectPolicyBody(tx, tenant_id, hash);
  assert(body !== undefined, `policy ${hash} is missing`);
  return body;
}

export async function platformOf(tx: Queryable, tenant_id: string, hash: string): Promise<string> {
  const { policy } = loadPolicy(await policyBody(tx, tenant_id, hash));
  return policy.parties.platform;
}

export async function lockOrder(tx: Queryable, tenant_id: string, order_id: string): Promise<OrderRow> {
  const row = await selectOrderForUpdate(tx, tenant_id, order_id);
  if (row === undefined)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(order_id)}`, "id");
  return row;
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
