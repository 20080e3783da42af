import { assert } from "../../core/assert.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { transactionContentHash } from "../../core/ledger/content-hash.ts";
import { decideBatch } from "../../core/ledger/decide.ts";
import { transactions_per_batch_max } from "../../core/ledger/ledger-limits.ts";
import {
  type Account,
  type JournalTransaction,
  signedAmount,
  type TransactionRequest,
} from "../../core/ledger/types.ts";
import { validateEntriesAgainstAccounts, validateTransactionRequest } from "../../core/ledger/validate.ts";
import { journalRecord, journalRecordParties } from "../../core/log/records.ts";
import type { Queryable } from "../../store/database.ts";
import {
  journalRowsStep,
  selectAccounts,
  selectTransactions,
  selectTransactionsByKey,
} from "../../store/ledger-sql.ts";
import { type LogRecordRow, logRecordRowsStep } from "../../store/log-records-sql.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";
import { LoopSlicer, mapInSlices } from "../slices.ts";
import { type LogRecordInput, logRecordRowsInSlices } from "../tlog/record-enqueue.ts";
import {
  balanceDeltasWrite,
  type LockedAvailability,
  lockAndReadAvailable,
  postingsWrite,
} from "./balances.ts";

export type PostResult =
  | { status: "created"; transaction: JournalTransaction }
  | { status: "replayed"; transaction: JournalTransaction }
  | { status: "rejected"; error: DomainError };

export interface WriteOptions {
  /**
   * The caller has already established, in this transaction, that no request's
   * idempotency key is taken, so the lookup is skipped. A key taken
   * concurrently since is still caught by the insert (RetryTransaction).
   */
  keys_unused?: boolean;
}

interface Pending {
  index: number;
  request: TransactionRequest;
  content_hash: string;
}

/**
 * Books many journal transactions inside the caller's database transaction:
 * validate → prefetch (keys, accounts, locked balances) → decide in memory →
 * write every table in one statement. Each request gets its own result; a bad
 * request never sinks the others. Throws RetryTransaction when a concurrent
 * writer took an idempotency key between our read and our insert.
 */
export async function writeJournalBatch(
  tx: Queryable,
  tenant_id: string,
  requests: readonly TransactionRequest[],
  recorded_at: Date,
  options: WriteOptions = {},
): Promise<PostResult[]> {
  const plan = await planJournalBatch(tx, tenant_id, requests, recorded_at, options);
  await writeSteps(tx, journalSteps(plan, []));
  return plan.results;
}

/**
 * What a journal batch decided, not yet written: each request's result, the
 * transactions to create (by request index), and the steps that write them.
 * A caller with rows of its own for the created transactions builds them from
 * `created` and writes everything in one statement with `journalSteps`
 * (decisions §12, §21): the ledger writer never calls back into its caller.
 */
export interface JournalPlan {
  readonly results: PostResult[];
  readonly created: ReadonlyMap<number, JournalTransaction>;
  readonly journal: readonly (WriteStep | null)[];
  /** Written last: the balance deltas (src/store/write-set.ts). */
  readonly balances: WriteStep | null;
}

/** The one statement of a plan: the journal's steps, the caller's own rows, then the balance deltas. */
export function journalSteps(plan: JournalPlan, own: readonly (WriteStep | null)[]): (WriteStep | null)[] {
  assert(own.length === 0 || plan.created.size > 0, "rows of its own need a created transaction");
  return [...plan.journal, ...own, plan.balances];
}

export async function planJournalBatch(
  tx: Queryable,
  tenant_id: string,
  requests: readonly TransactionRequest[],
  recorded_at: Date,
  options: WriteOptions = {},
): Promise<JournalPlan> {
  assert(
    requests.length <= transactions_per_batch_max,
    `a batch holds at most ${transactions_per_batch_max} transactions`,
  );
  const results: (PostResult | undefined)[] = new Array(requests.length);
  const slicer = new LoopSlicer();
  const { pending, duplicate_of } = await validateAndDedupe(requests, results, slicer);

  const existing = options.keys_unused
    ? new Map<string, never>()
    : await selectTransactionsByKey(
        tx,
        tenant_id,
        pending.map((item) => item.request.idempotency_key),
      );
  const replay_ids = new Map<number, string>();
  const fresh: Pending[] = [];
  for (const item of pending) {
    const found = existing.get(item.request.idempotency_key);
    if (found === undefined) fresh.push(item);
    else if (found.content_hash === item.content_hash) replay_ids.set(item.index, found.id);
    else results[item.index] = { status: "rejected", error: keyConflict(item.request.idempotency_key) };
  }

  const account_ids = unique(fresh.flatMap((item) => item.request.entries.map((entry) => entry.account_id)));
  const accounts = await selectAccounts(tx, tenant_id, account_ids);
  const checked = fresh.filter((item) => {
    try {
      validateEntriesAgainstAccounts(item.request, accounts);
      return true;
    } catch (error) {
      if (!isDomainError(error)) throw error;
      results[item.index] = { status: "rejected", error };
      return false;
    }
  });

  // Everything about a transaction that does not depend on balances (its id,
  // its log record canonicalised and hashed: the heaviest per-order work) is
  // built before the balance buckets are locked, in slices of the event loop.
  // Under the locks nothing yields: other batches wait for them in the database.
  const built = await buildTransactions(checked, accounts, recorded_at, slicer);
  const locked = await lockAndReadAvailable(
    tx,
    tenant_id,
    checked.map((item) => item.request),
    accounts,
  );
  const decisions = decideBatch(
    checked.map((item) => item.request),
    accounts,
    locked.available,
  );
  const accepted: Built[] = [];
  decisions.forEach((decision, position) => {
    const item = checked[position]!;
    if (decision.accepted) accepted.push(built[position]!);
    else results[item.index] = { status: "rejected", error: decision.error };
  });

  const { created, journal, balances } = planAccepted(tenant_id, accepted, locked, recorded_at);
  for (const [index, transaction] of created) results[index] = { status: "created", transaction };

  const replayed = await selectTransactions(tx, tenant_id, [...replay_ids.values()]);
  for (const [index, id] of replay_ids) {
    const transaction = replayed.get(id);
    assert(transaction !== undefined, `replayed transaction ${id} vanished`);
    results[index] = { status: "replayed", transaction };
  }
  for (const [index, first_index] of duplicate_of) {
    const first = results[first_index];
    assert(first !== undefined, "a duplicate's original has no result");
    results[index] =
      first.status === "rejected" ? first : { status: "replayed", transaction: first.transaction };
  }
  for (const [index, result] of results.entries())
    assert(result !== undefined, `request ${index} got no result`);
  return { results: results as PostResult[], created, journal, balances };
}

async function validateAndDedupe(
  requests: readonly TransactionRequest[],
  results: (PostResult | undefined)[],
  slicer: LoopSlicer,
): Promise<{ pending: Pending[]; duplicate_of: Map<number, number> }> {
  const pending: Pending[] = [];
  const duplicate_of = new Map<number, number>();
  const first_by_key = new Map<string, Pending>();
  for (const [index, request] of requests.entries()) {
    await slicer.pause();
    try {
      validateTransactionRequest(request);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      results[index] = { status: "rejected", error };
      continue;
    }
    const item = { index, request, content_hash: transactionContentHash(request) };
    const first = first_by_key.get(request.idempotency_key);
    if (first === undefined) {
      first_by_key.set(request.idempotency_key, item);
      pending.push(item);
    } else if (first.content_hash !== item.content_hash) {
      results[index] = { status: "rejected", error: keyConflict(request.idempotency_key) };
    } else {
      duplicate_of.set(index, first.index);
    }
  }
  return { pending, duplicate_of };
}

/** A checked request with its journal transaction and its log record's row, built before the locks. */
interface Built {
  item: Pending;
  transaction: JournalTransaction;
  record_row: LogRecordRow;
}

async function buildTransactions(
  checked: readonly Pending[],
  accounts: ReadonlyMap<string, Account>,
  recorded_at: Date,
  slicer: LoopSlicer,
): Promise<Built[]> {
  const transactions = await mapInSlices(checked, (item) => toJournal(item.request, recorded_at), slicer);
  const records = await mapInSlices(
    transactions,
    (transaction) => logRecordOf(transaction, accounts),
    slicer,
  );
  const rows = await logRecordRowsInSlices(records, slicer);
  return checked.map((item, position) => ({
    item,
    transaction: transactions[position]!,
    record_row: rows[position]!,
  }));
}

function planAccepted(
  tenant_id: string,
  accepted: readonly Built[],
  locked: LockedAvailability,
  recorded_at: Date,
): Pick<JournalPlan, "created" | "journal" | "balances"> {
  const created = new Map<number, JournalTransaction>();
  if (accepted.length === 0) return { created, journal: [], balances: null };
  const transactions = accepted.map((built) => built.transaction);
  for (const built of accepted) created.set(built.item.index, built.transaction);
  // One statement: the journal, its postings, its log records, the caller's
  // own rows, and last the balance deltas (src/store/write-set.ts). If a
  // concurrent writer took one of the keys our read saw as free, the journal
  // step's count says so and the whole batch starts again: the balances we
  // decided on would be wrong.
  return {
    created,
    journal: [
      journalRowsStep(
        tenant_id,
        accepted.map((built) => ({ ...built.transaction, content_hash: built.item.content_hash })),
      ),
      postingsWrite(tenant_id, transactions),
      logRecordRowsStep(
        tenant_id,
        accepted.map((built) => built.record_row),
        recorded_at,
      ),
    ],
    balances: balanceDeltasWrite(tenant_id, transactions, locked),
  };
}

function toJournal(request: TransactionRequest, recorded_at: Date): JournalTransaction {
  const effective_at = request.effective_at ?? recorded_at;
  return {
    id: newId(),
    kind: request.kind,
    idempotency_key: request.idempotency_key,
    effective_at,
    recorded_at,
    order_id: request.order_id ?? null,
    event_id: request.event_id ?? null,
    policy_hash: request.policy_hash ?? null,
    hold_id: request.hold_id ?? null,
    memo: request.memo ?? null,
    entries: request.entries.map((entry) => ({
      account_id: entry.account_id,
      amount_minor: signedAmount(entry),
      currency: entry.currency,
    })),
  };
}

/** Every booked transaction enters the transparency log, in the transaction that books it. */
function logRecordOf(
  transaction: JournalTransaction,
  accounts: ReadonlyMap<string, Account>,
): LogRecordInput {
  const record = journalRecord(transaction, (account_id) => {
    const account = accounts.get(account_id);
    assert(account !== undefined, `account ${account_id} of a booked entry is unknown`);
    return account;
  });
  return { id: transaction.id, kind: "journal_transaction", record, party_ids: journalRecordParties(record) };
}

function keyConflict(key: string): DomainError {
  return new DomainError(
    "idempotency_key_conflict",
    `idempotency key ${JSON.stringify(key)} was already used for a different request`,
    "idempotency_key",
    { idempotency_key: key },
  );
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}
