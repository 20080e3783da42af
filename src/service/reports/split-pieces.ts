import { assert } from "../../core/assert.ts";
import { split_orders_per_read_max } from "../../core/limits.ts";
import { type SplitLineKind, splitPieceKind, splitPieces } from "../../core/reports/split-lines.ts";
import { subsidy_rule_id } from "../../core/split/subsidy.ts";
import type { Queryable } from "../../store/database.ts";
import { selectOrdersByIds } from "../../store/report-orders-sql.ts";
import { selectPostingsOfTransactions } from "../../store/report-postings-sql.ts";
import { allocationsFor } from "../orders/allocation.ts";
import type { OrderRow } from "../orders/view.ts";

// Reads the legs behind split postings so the fold (and a statement's tail of
// transactions not folded yet) can keep a party's net share in pieces by kind.
// The legs are recomputed from the order's facts (decision 9). A posting is
// cut into pieces only when it is its party's one credit in the split and the
// pieces sum to it exactly; otherwise it stays whole, under its journal kind,
// so the aggregates are exact whatever happens here.

export interface SplitPosting {
  transaction_id: string;
  seq: number;
  order_id: string | null;
  account_id: string;
  party_id: string;
  amount_minor: bigint;
}

export interface PostingPiece {
  /** `split:<line kind>` (src/core/reports/split-lines.ts). */
  kind: string;
  amount_minor: bigint;
}

export function postingKey(transaction_id: string, seq: number): string {
  return `${transaction_id}#${seq}`;
}

async function ordersById(tx: Queryable, tenant_id: string, ids: readonly string[]): Promise<OrderRow[]> {
  const rows: OrderRow[] = [];
  for (let start = 0; start < ids.length; start += split_orders_per_read_max) {
    const chunk = ids.slice(start, start + split_orders_per_read_max);
    rows.push(...(await selectOrdersByIds(tx, tenant_id, chunk)));
  }
  return rows;
}

/** The pieces of each split posting that can be cut, keyed by `postingKey`; the others are absent. */
export async function splitPostingPieces(
  tx: Queryable,
  tenant_id: string,
  postings: readonly SplitPosting[],
): Promise<Map<string, PostingPiece[]>> {
  const result = new Map<string, PostingPiece[]>();
  // A party credited more than once in one split is left whole: its pieces could not be told apart.
  const credits = new Map<string, number>();
  for (const posting of postings) {
    const key = `${posting.transaction_id}\u0000${posting.party_id}`;
    credits.set(key, (credits.get(key) ?? 0) + 1);
  }
  const order_ids = [
    ...new Set(postings.flatMap((posting) => (posting.order_id === null ? [] : [posting.order_id]))),
  ];
  if (order_ids.length === 0) return result;
  const orders = await ordersById(tx, tenant_id, order_ids);
  // A policy that cannot be read leaves every posting whole (exact, only not cut), never a stuck fold.
  let allocationOf: Awaited<ReturnType<typeof allocationsFor>>;
  try {
    allocationOf = await allocationsFor(tx, tenant_id, orders);
  } catch {
    return result;
  }
  const order_of = new Map(orders.map((order) => [order.id, order]));
  const legs_of = new Map<string, ReturnType<typeof allocationOf> | null>();
  for (const posting of postings) {
    if (posting.order_id === null || posting.amount_minor <= 0n) continue;
    if (credits.get(`${posting.transaction_id}\u0000${posting.party_id}`) !== 1) continue;
    const order = order_of.get(posting.order_id);
    if (order === undefined) continue;
    if (!legs_of.has(order.id)) legs_of.set(order.id, recompute(allocationOf, order));
    const allocation = legs_of.get(order.id);
    if (allocation === null || allocation === undefined) continue;
    const pieces = splitPieces(
      {
        merchant_id: order.merchant_id,
        paid_minor: BigInt(order.paid_minor),
        subsidy_rule_id,
        legs: allocation.legs.map((leg) => ({ ...leg, amount_minor: BigInt(leg.amount_minor) })),
      },
      posting.party_id,
    );
    let sum = 0n;
    for (const amount_minor of pieces.values()) sum += amount_minor;
    if (sum !== posting.amount_minor) continue;
    const list = [...pieces].map(([kind, amount_minor]) => ({ kind: splitPieceKind(kind), amount_minor }));
    assert(list.length > 0, "a positive posting has at least one piece");
    result.set(postingKey(posting.transaction_id, posting.seq), list);
  }
  return result;
}

/** The order's legs, or null when they cannot be recomputed (the posting then stays whole). */
function recompute(
  allocationOf: Awaited<ReturnType<typeof allocationsFor>>,
  order: OrderRow,
): ReturnType<Awaited<ReturnType<typeof allocationsFor>>> | null {
  try {
    return allocationOf(order);
  } catch {
    return null;
  }
}

/**
 * For line proofs: each split transaction's part of one line kind on the
 * party's accounts, cut as the fold cuts it (uncut postings count as sales).
 * Transactions with no part on the line are absent.
 */
export async function splitLineAmounts(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
  accounts: readonly { id: string; purpose: string }[],
  transaction_ids: readonly string[],
  line_kind: string,
): Promise<Map<string, bigint>> {
  const amounts = new Map<string, bigint>();
  if (transaction_ids.length === 0) return amounts;
  const purpose_of = new Map(accounts.map((account) => [account.id, account.purpose]));
  const rows = await selectPostingsOfTransactions(
    tx,
    tenant_id,
    transaction_ids,
    accounts.map((account) => account.id),
  );
  const postings = rows.map((row) => ({
    ...row,
    seq: Number(row.seq),
    party_id,
    amount_minor: BigInt(row.amount_minor),
  }));
  const cut = await splitPostingPieces(
    tx,
    tenant_id,
    postings.filter((posting) => purpose_of.get(posting.account_id) === "held"),
  );
  const wanted = splitPieceKind(line_kind as SplitLineKind);
  for (const posting of postings) {
    const pieces = cut.get(postingKey(posting.transaction_id, posting.seq)) ?? [
      { kind: splitPieceKind("sales"), amount_minor: posting.amount_minor },
    ];
    for (const piece of pieces)
      if (piece.kind === wanted)
        amounts.set(posting.transaction_id, (amounts.get(posting.transaction_id) ?? 0n) + piece.amount_minor);
  }
  return amounts;
}
