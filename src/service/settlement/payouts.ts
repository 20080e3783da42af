import { assert } from "../../core/assert.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { failure_reason_length_max, payouts_page_max } from "../../core/limits.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import { maskAccountRef } from "../../core/settlement/profile.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import {
  type PayoutRow,
  resolvePayout,
  selectPayoutPage,
  selectPayouts,
} from "../../store/settlement-sql.ts";
import { writeSteps } from "../../store/write-set.ts";
import type { ServiceContext } from "../context.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { accountFor, partyAccounts, partyKinds } from "../orders/party-accounts.ts";
import { payoutEventPayload } from "./settle-party.ts";

export type PayoutResult =
  | { outcome: "confirm"; provider_reference?: string | undefined }
  | { outcome: "fail"; reason: string };

/**
 * Settles a payout's result: confirmed, its funds leave in transit for paid
 * out; failed, they go back to available and the party is told why. Sending
 * the same result again is a replay; the opposite result is a conflict.
 */
export function resolvePayoutResult(
  ctx: ServiceContext,
  tenant_id: string,
  payout_id: string,
  result: PayoutResult,
): Promise<PayoutRow> {
  if (!isUuid(payout_id)) throw new DomainError("payout_not_found", `no payout ${payout_id}`, "id");
  if (result.outcome === "fail") {
    const reason = result.reason.trim();
    if (reason.length === 0 || reason.length > failure_reason_length_max)
      throw new DomainError(
        "failure_reason_invalid",
        `reason must be 1 to ${failure_reason_length_max} characters`,
        "reason",
      );
  }
  return inTransaction(ctx.db, (tx) => resolveIn(tx, tenant_id, payout_id, result, ctx.now()));
}

/** The same inside the caller's transaction (the result-file import resolves many in one). */
export async function resolveIn(
  tx: Queryable,
  tenant_id: string,
  payout_id: string,
  result: PayoutResult,
  now: Date,
): Promise<PayoutRow> {
  const [payout] = await selectPayouts(tx, tenant_id, [payout_id], true);
  if (payout === undefined) throw new DomainError("payout_not_found", `no payout ${payout_id}`, "id");
  const target = result.outcome === "confirm" ? "paid_out" : "failed";
  if (payout.state === target) return payout;
  if (payout.state !== "in_transit")
    throw new DomainError(
      "payout_state_invalid",
      `payout ${payout_id} is ${payout.state}; only a payout in transit can be ${result.outcome === "confirm" ? "confirmed" : "failed"}`,
      "id",
      { state: payout.state },
    );
  assert(payout.amount_minor > 0n, "a payout in transit moves a positive amount");
  const kinds = await partyKinds(tx, tenant_id, [payout.party_id]);
  const to = result.outcome === "confirm" ? ("paid_out" as const) : ("available" as const);
  const specs = [
    { party_id: payout.party_id, purpose: "in_transit" as const, currency: payout.currency },
    { party_id: payout.party_id, purpose: to, currency: payout.currency },
  ];
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const [booked] = await writeJournalBatch(
    tx,
    tenant_id,
    [
      {
        idempotency_key: `payout:${payout.id}:${result.outcome}`,
        kind: result.outcome === "confirm" ? "payout" : "payout_return",
        memo:
          result.outcome === "fail"
            ? `payout ${payout.id} failed: ${result.reason.trim().slice(0, 400)}`
            : `payout ${payout.id} confirmed`,
        entries: [
          {
            account_id: accountFor(accounts, specs[0]!).id,
            side: "debit",
            amount_minor: payout.amount_minor,
            currency: payout.currency,
          },
          {
            account_id: accountFor(accounts, specs[1]!).id,
            side: "credit",
            amount_minor: payout.amount_minor,
            currency: payout.currency,
          },
        ],
      },
    ],
    now,
  );
  assert(booked !== undefined, "no result for the payout result's transaction");
  if (booked.status === "rejected") throw booked.error;
  const change = {
    state: target,
    result_transaction_id: booked.transaction.id,
    failure_reason: result.outcome === "fail" ? result.reason.trim() : null,
    provider_reference: result.outcome === "confirm" ? (result.provider_reference ?? null) : null,
    resolved_at: now,
  } as const;
  await resolvePayout(tx, tenant_id, payout.id, change);
  const updated: PayoutRow = {
    ...payout,
    ...change,
    provider_reference: change.provider_reference ?? payout.provider_reference,
  };
  await writeSteps(tx, [
    eventsWrite(
      tenant_id,
      [
        {
          type: result.outcome === "confirm" ? "payout.confirmed" : "payout.failed",
          party_ids: [payout.party_id],
          payload: payoutEventPayload(updated),
        },
      ],
      now,
    ),
  ]);
  return updated;
}

export interface PayoutFilter {
  party_id?: string | undefined;
  state?: string | undefined;
  /** Payouts whose run day is within [from, to] (ISO dates). */
  from?: string | undefined;
  to?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** A payout as callers see it; the account reference is masked unless `full_account`. */
export function payoutView(row: PayoutRow, full_account: boolean): Record<string, unknown> {
  return {
    id: row.id,
    party_id: row.party_id,
    currency: row.currency,
    state: row.state,
    amount_minor: row.amount_minor,
    netted_minor: row.netted_minor,
    eligible_minor: row.eligible_minor,
    minimum_payout_minor: row.minimum_payout_minor,
    cycle_key: row.cycle_key,
    run_id: row.run_id,
    run_date: row.run_date,
    period_start: row.period_start,
    period_end: row.period_end,
    reference: row.reference,
    payout_account_ref: full_account ? row.payout_account_ref : maskAccountRef(row.payout_account_ref),
    transaction_id: row.transaction_id,
    result_transaction_id: row.result_transaction_id,
    failure_reason: row.failure_reason,
    provider_reference: row.provider_reference,
    created_at: row.created_at,
    resolved_at: row.resolved_at,
  };
}

const date_pattern = /^\d{4}-\d{2}-\d{2}$/;

/** Payouts in id order (UUIDv7: creation order), one cursor page; a party scope sees its own only. */
export async function listPayouts(
  db: Queryable,
  scope: ReadScope,
  filter: PayoutFilter,
): Promise<{ items: PayoutRow[]; next_cursor: string | null }> {
  const limit = pageLimit(filter.limit, 50, payouts_page_max);
  const after = filter.cursor === undefined ? null : decodeCursor("payouts", filter.cursor, ["uuid"])[0];
  for (const field of ["from", "to"] as const)
    if (filter[field] !== undefined && !date_pattern.test(filter[field]!))
      throw new DomainError("field_invalid", `${field} must be a date YYYY-MM-DD`, field);
  const party = scope.party_id ?? filter.party_id ?? null;
  if (scope.party_id !== null && filter.party_id !== undefined && filter.party_id !== scope.party_id)
    return { items: [], next_cursor: null };
  const rows = await selectPayoutPage(db, scope.tenant_id, {
    party_id: party,
    state: filter.state ?? null,
    from: filter.from ?? null,
    to: filter.to ?? null,
    after_id: after,
    limit: limit + 1,
  });

  return pageOf(rows, limit, "payouts", (row) => [row.id]);
}

export async function getPayout(db: Queryable, scope: ReadScope, payout_id: string): Promise<PayoutRow> {
  const [row] = isUuid(payout_id) ? await selectPayouts(db, scope.tenant_id, [payout_id]) : [];
  if (row === undefined || (scope.party_id !== null && row.party_id !== scope.party_id))
    throw new DomainError("payout_not_found", `no payout ${payout_id}`, "id");
  return row;
}
