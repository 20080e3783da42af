import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import {
  type JournalRecord,
  journalRecord,
  type LogRecordKind,
  type PolicyRecord,
} from "../../core/log/records.ts";
import { selectActionRecords } from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import {
  selectTransactionAccounts,
  selectTransactions,
  selectTransactionWithOwners,
} from "../../store/ledger-sql.ts";
import { selectPolicyRecordRows } from "../../store/policies-sql.ts";
import { rebuildPayoutRecords, rebuildReconciliationRecords } from "./settlement-records.ts";

// Records are not stored: they are rebuilt from their business rows, with the
// same builders the writers hashed. A row changed out of band therefore
// rebuilds to a different record, and its leaf no longer matches the log.

export const rebuild_batch_max = 5_000;
export const rebuildable_kinds: readonly LogRecordKind[] = [
  "journal_transaction",
  "policy",
  "audit_action",
  "settlement_batch",
  "reconciliation",
];

/** Rebuilds many records of one kind; ids whose business rows are gone are absent from the map. */
export async function rebuildRecords(
  tx: Queryable,
  tenant_id: string,
  kind: LogRecordKind,
  ids: readonly string[],
): Promise<Map<string, unknown>> {
  assert(ids.length <= rebuild_batch_max, `rebuild at most ${rebuild_batch_max} records at once`);
  if (kind === "journal_transaction") return rebuildJournalRecords(tx, tenant_id, ids);
  if (kind === "policy") return rebuildPolicyRecords(tx, tenant_id, ids);
  if (kind === "settlement_batch") return rebuildPayoutRecords(tx, tenant_id, ids);
  if (kind === "reconciliation") return rebuildReconciliationRecords(tx, tenant_id, ids);
  if (kind === "audit_action") return selectActionRecords(tx, tenant_id, ids);
  throw new DomainError("record_kind_unsupported", `records of kind ${kind} cannot be rebuilt yet`, "kind");
}

/** One record, or undefined when its business rows are gone. */
export async function rebuildRecord(
  tx: Queryable,
  tenant_id: string,
  kind: LogRecordKind,
  id: string,
): Promise<unknown | undefined> {
  if (kind !== "journal_transaction") return (await rebuildRecords(tx, tenant_id, kind, [id])).get(id);
  // One query instead of three: a proof bundle's latency is mostly round trips.
  const found = await selectTransactionWithOwners(tx, tenant_id, id);
  if (found === undefined) return undefined;
  // An account row deleted out of band: rebuild with placeholders so the leaf differs.
  return journalRecord(found.transaction, (account_id) => found.owners.get(account_id) ?? missing_account);
}

const missing_account = { party_id: "", purpose: "held" } as const;

async function rebuildJournalRecords(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, JournalRecord>> {
  // The accounts are found through the postings, so all three reads go at once.
  const [transactions, accounts] = await Promise.all([
    selectTransactions(tx, tenant_id, ids),
    selectTransactionAccounts(tx, tenant_id, ids),
  ]);
  const records = new Map<string, JournalRecord>();
  for (const [id, transaction] of transactions) {
    records.set(
      id,
      journalRecord(transaction, (account_id) => {
        const account = accounts.get(account_id);
        // An account row deleted out of band: rebuild with placeholders so the leaf differs.
        return account ?? missing_account;
      }),
    );
  }
  return records;
}

async function rebuildPolicyRecords(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, PolicyRecord>> {
  const rows = await selectPolicyRecordRows(tx, tenant_id, ids);
  const records = new Map<string, PolicyRecord>();
  for (const row of rows) {
    // A policy enters the log when it is published; a draft has no record.
    if (row.hash === null || row.published_at === null) continue;
    records.set(row.id, {
      type: "policy",
      id: row.id,
      name: row.name,
      hash: row.hash,
      published_at: row.published_at.toISOString(),
      body: typeof row.body === "string" ? JSON.parse(row.body) : row.body,
    });
  }
  return records;
}
