import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import type { PartyKind, TransactionRequest } from "../../core/ledger/types.ts";
import { entries_per_payout_max } from "../../core/limits.ts";
import { payoutRecord } from "../../core/settlement/payout-record.ts";
import { decidePayout, type SettlementProfile } from "../../core/settlement/profile.ts";
import { transactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { commitHorizon } from "../../store/event-seqs-sql.ts";
import { lockBalances } from "../../store/ledger-sql.ts";
import { closeOpenEntries, selectOpenEntries, takeNewPostings } from "../../store/settlement-open-sql.ts";
import {
  type CoveredEntry,
  insertPayout,
  insertPayoutEntries,
  type PayoutRow,
  selectPayoutByCycle,
} from "../../store/settlement-sql.ts";
import { writeSteps } from "../../store/write-set.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { accountFor, partyAccounts } from "../orders/party-accounts.ts";
import { logRecordsWrite } from "../tlog/record-enqueue.ts";
import { ordersBlockedByAudit, partyHeldByAudit } from "./audit-hooks.ts";

// Advisory-lock namespace for one party's settlement (second key: hash of tenant and party).
const settle_party_lock_class = 7_015;

export interface PartyCycle {
  party_id: string;
  kind: PartyKind;
  currency: string;
  profile: SettlementProfile;
  cycle_key: string;
  eligible_before: Date;
  run_id: string;
  run_date: string;
  /**
   * A commit horizon (commitHorizon) read before this transaction began, such as
   * the run's: still true, only older, so one read serves every party of a run.
   */
  horizon?: string | undefined;
}

export type PartyOutcome =
  | { status: "paid"; payout: PayoutRow }
  | { status: "carried_over"; payout: PayoutRow }
  | { status: "netted"; payout: PayoutRow }
  | { status: "replayed"; payout: PayoutRow }
  | { status: "nothing_due"; party_id: string; currency: string }
  | { status: "held_by_case"; party_id: string; currency: string; case_ids: string[] };

/**
 * Settles one party in one currency for one cycle, inside the caller's
 * transaction: nets what it owes, moves the rest of its payable funds from
 * available to in transit in one journal transaction, and records the payout
 * with the entries it covers, its log record and its event. The payout's
 * (party, currency, cycle) key makes a second run a replay.
 */
export async function settlePartyCycle(
  tx: Queryable,
  tenant_id: string,
  cycle: PartyCycle,
  now: Date,
): Promise<PartyOutcome> {
  await transactionLock(tx, settle_party_lock_class, `${tenant_id}/${cycle.party_id}`);
  const existing = await selectPayoutByCycle(tx, tenant_id, cycle);
  if (existing !== undefined) return { status: "replayed", payout: existing };
  // A party-level audit case holds the whole party: nothing moves and no payout is recorded,
  // so the first run after the case is approved pays this cycle's funds (docs/audit.md).
  const case_ids = await partyHeldByAudit(tx, tenant_id, cycle.party_id);
  if (case_ids.length > 0)
    return { status: "held_by_case", party_id: cycle.party_id, currency: cycle.currency, case_ids };

  const kinds = new Map([[cycle.party_id, cycle.kind]]);
  const specs = (["available", "debt", "in_transit"] as const).map((purpose) => ({
    party_id: cycle.party_id,
    purpose,
    currency: cycle.currency,
  }));
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const [available, debt, in_transit] = specs.map((spec) => accountFor(accounts, spec));
  assert(available !== undefined && debt !== undefined && in_transit !== undefined, "accounts missing");
  const locked = await lockBalances(
    tx,
    tenant_id,
    [available, debt].flatMap((account) =>
      Array.from({ length: account.bucket_count }, (_, bucket) => ({ account_id: account.id, bucket })),
    ),
  );
  let available_minor = 0n;
  let debt_posted_minor = 0n;
  for (const row of locked) {
    if (row.account_id === available.id) available_minor += row.posted_minor - row.pending_out_minor;
    else debt_posted_minor += row.posted_minor;
  }
  const owed_minor = debt_posted_minor < 0n ? -debt_posted_minor : 0n;
  // Nothing can be paid from an account holding nothing: payable is at most available.
  if (available_minor <= 0n)
    return { status: "nothing_due", party_id: cycle.party_id, currency: cycle.currency };

  // The open set, brought up to date with what was posted since the last run:
  // bounded by the account's new and unpaid entries, not by its history.
  await takeNewPostings(tx, tenant_id, available.id, cycle.horizon ?? (await commitHorizon(tx)));
  const uncovered = await selectOpenEntries(
    tx,
    tenant_id,
    available.id,
    cycle.eligible_before,
    entries_per_payout_max,
  );
  const blocked = await ordersBlockedByAudit(tx, tenant_id, [
    ...new Set(uncovered.flatMap((entry) => (entry.order_id === null ? [] : [entry.order_id]))),
  ]);
  const covered = uncovered.filter((entry) => entry.order_id === null || !blocked.has(entry.order_id));
  const eligible_minor = covered.reduce((sum, entry) => sum + entry.amount_minor, 0n);
  // Never more than the account holds now, and never funds that were not yet released by the cut-off.
  const payable_minor = maxBigint(0n, eligible_minor < available_minor ? eligible_minor : available_minor);
  if (payable_minor === 0n)
    return { status: "nothing_due", party_id: cycle.party_id, currency: cycle.currency };
  const decision = decidePayout(payable_minor, owed_minor, cycle.profile);
  const paying_minor = decision.carried_over ? 0n : decision.amount_minor;

  const payout_id = newId();
  const request = settlementRequest(cycle, payout_id, decision.netted_minor, paying_minor, {
    available: available.id,
    debt: debt.id,
    in_transit: in_transit.id,
  });
  let transaction_id: string | null = null;
  if (request !== null) {
    const [result] = await writeJournalBatch(tx, tenant_id, [request], now);
    assert(result !== undefined, "no result for the settlement transaction");
    if (result.status === "rejected") throw result.error;
    transaction_id = result.transaction.id;
  }
  const payout: PayoutRow = {
    id: payout_id,
    party_id: cycle.party_id,
    currency: cycle.currency,
    cycle_key: cycle.cycle_key,
    run_id: cycle.run_id,
    run_date: cycle.run_date,
    period_start: covered[0]?.effective_at ?? null,
    period_end: cycle.eligible_before,
    state: decision.carried_over ? "carried_over" : paying_minor === 0n ? "netted" : "in_transit",
    eligible_minor,
    netted_minor: decision.netted_minor,
    amount_minor: decision.amount_minor,
    minimum_payout_minor: cycle.profile.minimum_payout_minor,
    payout_account_ref: cycle.profile.payout_account_ref,
    reference: payoutReference(cycle.run_date, payout_id),
    transaction_id,
    result_transaction_id: null,
    failure_reason: null,
    provider_reference: null,
    created_at: now,
    resolved_at: null,
  };
  const entries: CoveredEntry[] = decision.carried_over ? [] : covered;
  await insertPayout(tx, tenant_id, payout);
  await insertPayoutEntries(tx, tenant_id, payout_id, entries);
  // Only a live payout covers its entries; a netted one's stay open, as they always have.
  if (payout.state === "in_transit") await closeOpenEntries(tx, tenant_id, entries);
  const record = payoutRecord({ ...payout, carried_over: decision.carried_over, entries });
  await writeSteps(tx, [
    logRecordsWrite(
      tenant_id,
      [{ id: payout_id, kind: "settlement_batch", record, party_ids: [cycle.party_id] }],
      now,
    ),
    eventsWrite(
      tenant_id,
      [
        {
          type: payoutEventType(payout.state),
          party_ids: [cycle.party_id],
          payload: payoutEventPayload(payout),
        },
      ],
      now,
    ),
  ]);
  return {
    status: payout.state === "in_transit" ? "paid" : payout.state === "netted" ? "netted" : "carried_over",
    payout,
  };
}

function settlementRequest(
  cycle: PartyCycle,
  payout_id: string,
  netted_minor: bigint,
  paying_minor: bigint,
  account: { available: string; debt: string; in_transit: string },
): TransactionRequest | null {
  const out_minor = netted_minor + paying_minor;
  if (out_minor === 0n) return null;
  const entries: TransactionRequest["entries"] = [
    { account_id: account.available, side: "debit", amount_minor: out_minor, currency: cycle.currency },
  ];
  if (netted_minor > 0n)
    entries.push({
      account_id: account.debt,
      side: "credit",
      amount_minor: netted_minor,
      currency: cycle.currency,
    });
  if (paying_minor > 0n)
    entries.push({
      account_id: account.in_transit,
      side: "credit",
      amount_minor: paying_minor,
      currency: cycle.currency,
    });
  return {
    idempotency_key: `payout:${cycle.party_id}:${cycle.currency}:${cycle.cycle_key}`,
    kind: "settlement",
    memo: `payout ${payout_id}`,
    entries,
  };
}

/** A bank-friendly reference: ASCII letters and digits, 21 characters, unique per tenant. */
export function payoutReference(run_date: string, payout_id: string): string {
  return `CSP${run_date.replaceAll("-", "")}${payout_id.replaceAll("-", "").slice(-10).toUpperCase()}`;
}

/** The event a new payout writes: created when it goes out, else carried over or netted against debt. */
function payoutEventType(
  state: PayoutRow["state"],
): "payout.created" | "payout.carried_over" | "payout.netted" {
  if (state === "in_transit") return "payout.created";
  if (state === "carried_over") return "payout.carried_over";
  assert(state === "netted", `a new payout is in transit, carried over or netted, not ${state}`);
  return "payout.netted";
}

export function payoutEventPayload(payout: PayoutRow): Record<string, unknown> {
  return {
    payout_id: payout.id,
    party_id: payout.party_id,
    currency: payout.currency,
    amount_minor: Number(payout.amount_minor),
    netted_minor: Number(payout.netted_minor),
    state: payout.state,
    reference: payout.reference,
    cycle_key: payout.cycle_key,
    ...(payout.failure_reason === null ? {} : { failure_reason: payout.failure_reason }),
  };
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
