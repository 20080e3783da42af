import { DomainError } from "../../core/errors.ts";
import type { JournalTransaction } from "../../core/ledger/types.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import { selectTransactions } from "../../store/ledger-sql.ts";
import { allocationsFor } from "./allocation.ts";
import { selectRefunds } from "./order-lifecycle.ts";
import { partyKinds, shared_kinds } from "./party-accounts.ts";
import { partyFacts } from "./party-facts.ts";
import {
  type OrderRow,
  type OrderState,
  type OrderSummary,
  type OrderView,
  order_columns,
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
  const [row] = await db.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders o WHERE o.tenant_id = $1 AND o.id = $2
        AND ($3::text IS NULL OR clearsplit_order_has_party(o.tenant_id, o.id, $3))`,
    [scope.tenant_id, order_id, scope.party_id],
  );
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
  const [blocking] = await db.query<{ case_ids: string[] }>(
    "SELECT clearsplit_order_open_cases($1, $2) AS case_ids",
    [scope.tenant_id, order_id],
  );
  const case_ids = blocking?.case_ids ?? [];
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
  const party_filter =
    party === null
      ? "$2::text IS NULL"
      : party_kind !== undefined && shared_kinds.has(party_kind)
        ? "clearsplit_order_has_party(o.tenant_id, o.id, $2::text)"
        : `EXISTS (SELECT 1 FROM order_parties p WHERE p.tenant_id = o.tenant_id AND p.order_id = o.id
                      AND p.party_id = $2::text)`;
  const rows = await db.query<OrderRow & Record<string, unknown>>(
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
      scope.tenant_id,
      party,
      filters.merchant_id ?? null,
      filters.paid_from ?? null,
      filters.paid_to ?? null,
      filters.state ?? null,
      after?.paid_at ?? null,
      after?.id ?? "",
      limit + 1,
    ],
  );
  return pageOf(rows, limit, "orders", (row) => [row.paid_at, row.id], summaryOf);
}

function orderCursor(cursor: string): { paid_at: Date; id: string } {
  const [paid_at, id] = decodeCursor("orders", cursor, ["instant", "id"]);
  return { paid_at, id };
}
