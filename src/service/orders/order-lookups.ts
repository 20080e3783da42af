import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { EventType } from "../../core/event-catalogue.ts";
import type { AllocationJson, Policy } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { type OrderRow, selectOrderForUpdate } from "../../store/orders-sql.ts";
import type { EventInput } from "../events/event-enqueue.ts";
import { legPartyIds } from "./allocation.ts";
import { publishedPolicies } from "./policy-resolver.ts";

// What the order use cases share, each inside the caller's transaction: the policy an
// order was booked under, the locked order, and its events.

/**
 * The policy an order was booked under. A policy is stored by the hash of its
 * body and never changes, so it comes from the process's cache of published
 * policies when it is there (policy-resolver.ts): a refund reads no policy row.
 */
export async function bookedPolicy(tx: Queryable, tenant_id: string, hash: string): Promise<Policy> {
  const { policy, policy_hash } = (await publishedPolicies(tx, tenant_id, [hash]))(hash);
  assert(policy_hash === hash, `policy ${hash} loaded as ${policy_hash}`);
  return policy;
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
