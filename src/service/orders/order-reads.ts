import { DomainError } from "../../core/errors.ts";
import type { JournalTransaction } from "../../core/ledger/types.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import { selectOrderOpenCases } from "../../store/audit-holds-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectTransactions } from "../../store/ledger-sql.ts";
import { selectOrderForParty, selectOrderPage } from "../../store/orders-sql.ts";
import { allocationsFor } from "./allocation.ts";
import { selectRefunds } from "./order-lifecycle.ts";
import { partyKinds, shared_kinds } from "./party-accounts.ts";
import { partyFacts } from "./party-facts.ts";
import {
  type OrderState,
  type OrderSummary,
  type OrderView,
  type RefundView,
  summaryOf,
  viewOf,
} from "./view.ts";

export type { ReadScope } from "../../core/auth/scope.ts";

import type { ReadScope } from "../../core/auth/scope.ts";

export const orders_page_size_max = 200;

export interface OrderDetail extends OrderView {
  /** The open audit cases holding this order's funds, or null when none (docs/audit.md). */
  blocked_by_case: { case_ids: string[] } | null;
  facts: unknown;
  refunds: RefundView[];
  transactions: JournalTransaction[];
}

/** An order as the scope may see it. An order the party has no leg in is "not found", never "forbidden". */
export async function getOrderDetail(
  db: Queryable,
  scope: ReadScope,
  order_id: string,
): Promise<OrderDetail> {
  const row = await selectOrderForParty(db, scope.tenant_id, order_id, scope.party_id);
  if (row === undefined)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(order_id)}`, "id");
  const refunds = (await selectRefunds(db, scope.tenant_id, [order_id])).get(order_id) ?? [];
  const ids = [
    row.transaction_id,
    ...(row.release_transaction_id ? [row.release_transaction_id] : []),
    ...refunds.map((r) => r.transaction_id),
  ];
  const transactions = [...(await selectTransactions(db, scope.tenant_id, ids)).values()].sort((a, b) =>
    a.id < b.id ? -1 : 1,
  );
  const sees_all = scope.party_id === null || scope.party_id === row.merchant_id;
  const case_ids = await selectOrderOpenCases(db, scope.tenant_id, order_id);
  return {
    ...viewOf(row, (await allocationsFor(db, scope.tenant_id, [row]))(row), scope.party_id),
    blocked_by_case: case_ids.length > 0 ? { case_ids } : null,
    facts: sees_all ? row.facts : partyFacts(row.facts, scope.party_id!),
    refunds: refunds.map(({ request: _request, request_sha256: _sha, ...view }) =>
      sees_all
        ? view
        : {
            ...view,
            reversal: {
              ...view.reversal,
              legs: view.reversal.legs.filter((leg) => leg.party_id === scope.party_id),
              explanation: [],
            },
          },
    ),
    // Other parties' accounts appear in a split's journal; a party sees its own order's full journal only as its merchant.
    transactions: sees_all ? transactions : [],
  };
}

export interface OrderFilters {
  merchant_id?: string | undefined;
  party_id?: string | undefined;
  state?: OrderState | "partially_refunded" | "refunded" | undefined;
  paid_from?: Date | undefined;
  paid_to?: Date | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Orders newest first, a page at a time; the cursor is opaque. */
export async function listOrders(
  db: Queryable,
  scope: ReadScope,
  filters: OrderFilters,
): Promise<{ items: OrderSummary[]; next_cursor: string | null }> {
  const limit = pageLimit(filters.limit, 50, orders_page_size_max);
  const after = filters.cursor === undefined ? null : orderCursor(filters.cursor);
  const party = scope.party_id ?? filters.party_id ?? null;
  if (scope.party_id !== null && filters.party_id !== undefined && filters.party_id !== scope.party_id) {
    return { items: [], next_cursor: null };
  }
  // order_parties finds a merchant's, supplier's or referrer's orders through
  // its index; a shared party has a leg in most orders, so scanning them in
  // page order and asking the journal finds its page as fast (migration 007).
  const party_kind = party === null ? undefined : (await partyKinds(db, scope.tenant_id, [party])).get(party);
  const rows = await selectOrderPage(db, scope.tenant_id, {
    party_match:
      party === null
        ? "none"
        : party_kind !== undefined && shared_kinds.has(party_kind)
          ? "shared"
          : "indexed",
    party_id: party,
    merchant_id: filters.merchant_id ?? null,
    paid_from: filters.paid_from ?? null,
    paid_to: filters.paid_to ?? null,
    state: filters.state ?? null,
    before: after,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "orders", (row) => [row.paid_at, row.id], summaryOf);
}

function orderCursor(cursor: string): { paid_at: Date; id: string } {
  const [paid_at, id] = decodeCursor("orders", cursor, ["instant", "id"]);
  return { paid_at, id };
}
