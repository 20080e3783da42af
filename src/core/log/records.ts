import { assert } from "../assert.ts";
import type { Account, JournalTransaction } from "../ledger/types.ts";

const safe_minor = BigInt(Number.MAX_SAFE_INTEGER);

// The transparency log commits to records rebuilt from business rows. These
// builders are the single definition of each record's content: the writer
// hashes what they return, and `verify db` and proof bundles rebuild the same
// value from the tables, so any out-of-band change to those rows shows.

export type LogRecordKind =
  | "journal_transaction"
  | "policy"
  | "audit_action"
  | "settlement_batch"
  | "reconciliation"
  | "security_event";

export interface JournalRecordEntry {
  account_id: string;
  party_id: string;
  purpose: string;
  amount_minor: number;
  currency: string;
}

export interface JournalRecord {
  type: "journal_transaction";
  id: string;
  kind: string;
  effective_at: string;
  recorded_at: string;
  order_id: string | null;
  event_id: string | null;
  policy_hash: string | null;
  memo: string | null;
  entries: JournalRecordEntry[];
}

export function journalRecord(
  transaction: JournalTransaction,
  account_of: (account_id: string) => Pick<Account, "party_id" | "purpose">,
): JournalRecord {
  // Keys in canonical (RFC 8785) order, so that hashing takes the native path.
  return {
    effective_at: transaction.effective_at.toISOString(),
    entries: transaction.entries.map((entry) => {
      const account = account_of(entry.account_id);
      // The record's amount is a JSON number (the log's format since its first
      // record); every posting is bounded by amount_minor_max, which is exact in a double.
      assert(
        entry.amount_minor <= safe_minor && entry.amount_minor >= -safe_minor,
        "a posting beyond 2^53 cannot be a log record's number",
      );
      return {
        account_id: entry.account_id,
        amount_minor: Number(entry.amount_minor),
        currency: entry.currency,
        party_id: account.party_id,
        purpose: account.purpose,
      };
    }),
    event_id: transaction.event_id,
    id: transaction.id,
    kind: transaction.kind,
    memo: transaction.memo,
    order_id: transaction.order_id,
    policy_hash: transaction.policy_hash,
    recorded_at: transaction.recorded_at.toISOString(),
    type: "journal_transaction",
  };
}

/** The parties a journal record concerns: whoever owns an account it touches. */
export function journalRecordParties(record: JournalRecord): string[] {
  return [...new Set(record.entries.map((entry) => entry.party_id))].sort();
}

export interface PolicyRecord {
  type: "policy";
  id: string;
  name: string;
  hash: string;
  published_at: string;
  body: unknown;
}

/** One action of the audit trail (docs/audit.md): enough to replay the decision it records. */
export interface AuditActionRecord {
  type: "audit_action";
  id: string;
  case_id: string | null;
  config_id: string | null;
  action: string;
  actor: string;
  person: string | null;
  reason: string;
  config_hash: string | null;
  inputs_sha256: string | null;
  detail: unknown;
  at: string;
}

export function auditActionRecord(row: {
  id: string;
  case_id: string | null;
  config_id: string | null;
  action: string;
  actor: string;
  person: string | null;
  reason: string;
  config_hash: string | null;
  inputs_sha256: string | null;
  detail: unknown;
  created_at: Date;
}): AuditActionRecord {
  // Keys in canonical (RFC 8785) order.
  return {
    action: row.action,
    actor: row.actor,
    at: row.created_at.toISOString(),
    case_id: row.case_id,
    config_hash: row.config_hash,
    config_id: row.config_id,
    detail: row.detail,
    id: row.id,
    inputs_sha256: row.inputs_sha256,
    person: row.person,
    reason: row.reason,
    type: "audit_action",
  };
}

/** One party's entries of a journal record: what that party's commitment hides and its bundle discloses. */
export interface JournalRecordPart {
  party_id: string;
  entries: Omit<JournalRecordEntry, "party_id">[];
}

/** The header every party sees: the record without its entries. */
export type JournalRecordHeader = Omit<JournalRecord, "entries">;

/** A journal record as the log hashes it once disclosure is selective: header plus sorted commitments. */
export interface CommittedJournalRecord extends JournalRecordHeader {
  /** Hex SHA-256(party salt ‖ JCS(part)) for each party, sorted, so they name no party. */
  party_commitments: string[];
}

/** Splits a journal record into its header and one part per party, in party-id order. */
export function journalRecordParts(record: JournalRecord): {
  header: JournalRecordHeader;
  parts: JournalRecordPart[];
} {
  const { entries, ...header } = record;
  const by_party = new Map<string, JournalRecordPart>();
  for (const { party_id, ...entry } of entries) {
    let part = by_party.get(party_id);
    if (part === undefined) {
      part = { entries: [], party_id };
      by_party.set(party_id, part);
    }
    part.entries.push(entry);
  }
  const parts = [...by_party.values()].sort((a, b) =>
    a.party_id < b.party_id ? -1 : a.party_id > b.party_id ? 1 : 0,
  );
  return { header, parts };
}
