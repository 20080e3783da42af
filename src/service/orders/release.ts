import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { TransactionRequest } from "../../core/ledger/types.ts";
import { transactionLock, tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import { openedCaseOrderIds } from "../../store/audit-holds-sql.ts";
import type { Queryable } from "../../store/database.ts";
import {
  selectDueForUpdate,
  updateOrdersParked,
  updateOrdersReleased,
  updateOrdersUnparkedForCase,
} from "../../store/orders-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { allocationsFor } from "./allocation.ts";
import { heldByOrder } from "./held.ts";
import { lockOrder, orderEvent } from "./order-lookups.ts";
import { accountFor, partyAccounts, partyKinds } from "./party-accounts.ts";
import { type OrderRow, type OrderView, viewOf } from "./view.ts";

export const releases_per_batch_max = 500;

/** Moves an order's held shares to available now, whatever its window (finance's override). */
export function releaseOrder(ctx: ServiceContext, tenant_id: string, order_id: string): Promise<OrderView> {
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockOrder(tx, tenant_id, order_id);
    const allocation = (await allocationsFor(tx, tenant_id, [row]))(row);
    if (row.released_at !== null) return viewOf(row, allocation, null);
    // An open audit case holds the funds; only its decision lets them flow (docs/audit.md).
    const case_ids = (await openedCaseOrderIds(tx, tenant_id, [order_id])).get(order_id);
    if (case_ids !== undefined) {
      throw new DomainError(
        "order_blocked_by_case",
        `order ${JSON.stringify(order_id)} is held by open audit case ${case_ids[0]}: decide the case first`,
        "id",
        { case_ids },
      );
    }
    const [released] = await releaseRows(tx, tenant_id, [row], ctx.now());
    return viewOf(released!, allocation, null);
  });
}

// Advisory-lock namespace for the release leader (the second key is the tenant's hash).
const release_lock_class = 7_002;

/**
 * Scans per call, at most: each pass parks the held orders it found, so the next pass reads past
 * them; a call parks at most this many batches' worth before it returns what it released.
 */
const release_scan_passes_max = 8;

/**
 * Releases orders whose return window has ended, up to `limit`, and parks the due orders an open
 * case holds (decisions §45), so later rounds no longer walk them. With `leader_only`, a round runs
 * only in the process holding the tenant's release lock for that transaction (else it waits for
 * the lock); either way `SKIP LOCKED` and the journal's idempotency keys make concurrent runs
 * release each order once. Returns the orders released.
 */
export function releaseDue(
  ctx: ServiceContext,
  tenant_id: string,
  limit = releases_per_batch_max,
  options: { leader_only?: boolean } = {},
): Promise<number> {
  assert(
    limit >= 1 && limit <= releases_per_batch_max,
    `release batches hold 1 to ${releases_per_batch_max} orders`,
  );
  return inTransaction(ctx.db, async (tx) => {
    if (options.leader_only) {
      if (!(await tryTransactionLock(tx, release_lock_class, tenant_id))) return 0;
    } else await transactionLock(tx, release_lock_class, tenant_id);
    const now = ctx.now();
    const due: OrderRow[] = [];
    for (let pass = 0; pass < release_scan_passes_max && due.length < limit; pass++) {
      const asked = limit - due.length;
      const rows = await selectDueForUpdate(tx, tenant_id, now, asked);
      const held = rows.filter((row) => row.held).map((row) => row.id);
      const parked = await updateOrdersParked(tx, tenant_id, held);
      // A held order whose case was decided since the scan stays unparked: a later pass or round
      // reads it again and releases it.
      for (const { held: is_held, ...row } of rows) if (!is_held) due.push(row);
      if (rows.length < asked || parked.length === 0) break;
    }
    if (due.length > 0) await releaseRows(tx, tenant_id, due, now);
    return due.length;
  });
}

/**
 * For the decision of a case, at the start of its transaction: waits for the tenant's release
 * round in progress and keeps the next from starting, so a round cannot park an order behind a
 * case this transaction closes (it would read the case open, and park the order after the unpark
 * ran). Taken first, before any row lock, so it waits for nothing that waits for it.
 */
export async function lockReleases(tx: Queryable, tenant_id: string): Promise<void> {
  await transactionLock(tx, release_lock_class, tenant_id);
}

/** After a case leaves the open states: the orders it may have held go back to the release scan. */
export function unparkReleases(tx: Queryable, tenant_id: string, case_id: string): Promise<number> {
  return updateOrdersUnparkedForCase(tx, tenant_id, case_id);
}

async function releaseRows(
  tx: Queryable,
  tenant_id: string,
  rows: readonly OrderRow[],
  now: Date,
): Promise<OrderRow[]> {
  const held = await heldByOrder(
    tx,
    tenant_id,
    rows.map((row) => row.id),
  );
  const held_by_order = rows.map((row) => held.get(row.id)!);
  const kinds = await partyKinds(
    tx,
    tenant_id,
    held_by_order.flatMap((shares) => [...shares.keys()]),
  );
  const specs = rows.flatMap((row, i) =>
    [...held_by_order[i]!.keys()].flatMap((party_id) => [
      { party_id, purpose: "held" as const, currency: row.currency },
      { party_id, purpose: "available" as const, currency: row.currency },
    ]),
  );
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const requests: TransactionRequest[] = [];
  const request_of = new Map<string, number>();
  rows.forEach((row, i) => {
    const account = (party_id: string, purpose: "held" | "available") =>
      accountFor(accounts, { party_id, purpose, currency: row.currency }).id;
    const entries = [...held_by_order[i]!]
      .filter(([, amount_minor]) => amount_minor > 0n)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([party_id, amount_minor]) => [
        {
          account_id: account(party_id, "held"),
          side: "debit" as const,
          amount_minor,
          currency: row.currency,
          // Exactly what this order still holds for the party, read from the journal under its row lock.
          covered: true as const,
        },
        {
          account_id: account(party_id, "available"),
          side: "credit" as const,
          amount_minor,
          currency: row.currency,
        },
      ]);
    if (entries.length === 0) return; // Fully refunded before release: nothing left to move.
    request_of.set(row.id, requests.length);
    requests.push({ idempotency_key: `order:${row.id}:release`, kind: "release", order_id: row.id, entries });
  });
  const results = await writeJournalBatch(tx, tenant_id, requests, now);
  for (const result of results) if (result.status === "rejected") throw result.error;
  const transaction_ids = rows.map((row) => {
    const position = request_of.get(row.id);
    const result = position === undefined ? undefined : results[position];
    return result === undefined || result.status === "rejected" ? null : result.transaction.id;
  });
  await updateOrdersReleased(
    tx,
    tenant_id,
    now,
    rows.map((row) => row.id),
    transaction_ids,
  );
  const allocationOf = await allocationsFor(tx, tenant_id, rows);
  await enqueueEvents(
    tx,
    tenant_id,
    rows.map((row) => orderEvent("order.released", row, allocationOf(row), {})),
    now,
  );
  return rows.map((row, i) => ({
    ...row,
    released_at: now,
    release_transaction_id: transaction_ids[i] ?? null,
  }));
}
