// The ledger's plain data. An entry's signed amount is what it does to the
// account's balance: a credit adds, a debit subtracts.

export const account_purposes = [
  "held",
  "available",
  "in_transit",
  "payable",
  "revenue",
  "fees",
  "clearing",
  "debt",
  "paid_out",
  "expense",
  // Where an audit reversal parks an order's split until finance decides (docs/audit.md).
  "suspense",
] as const;
export type AccountPurpose = (typeof account_purposes)[number];

export const party_kinds = [
  "platform",
  "merchant",
  "supplier",
  "referrer",
  "psp",
  "tax",
  "logistics",
] as const;
export type PartyKind = (typeof party_kinds)[number];

/** Purposes whose balance may go below zero by nature: sources of funds and IOUs. */
export const purposes_allowed_negative: ReadonlySet<AccountPurpose> = new Set([
  "clearing",
  "expense",
  "debt",
]);

export interface Account {
  id: string;
  party_id: string;
  purpose: AccountPurpose;
  currency: string;
  allow_negative: boolean;
  bucket_count: number;
  status: "open" | "closed";
}

export type Side = "debit" | "credit";

export interface EntryInput {
  account_id: string;
  side: Side;
  amount_minor: bigint;
  currency: string;
  /**
   * A debit the caller has proven covered: it takes back no more than credits
   * of the same order to the same account that the journal shows unspent,
   * read under the order's row lock. It needs no balance check, so it locks
   * no buckets (docs/decisions.md §10). Only the order service sets it; the
   * HTTP ledger API cannot.
   */
  covered?: true;
}

export interface TransactionRequest {
  idempotency_key: string;
  kind: string;
  /** When the business event happened; defaults to when it was recorded. */
  effective_at?: Date | undefined;
  entries: EntryInput[];
  order_id?: string | undefined;
  event_id?: string | undefined;
  policy_hash?: string | undefined;
  hold_id?: string | undefined;
  memo?: string | undefined;
}

export interface Entry {
  account_id: string;
  amount_minor: bigint;
  currency: string;
}

export interface JournalTransaction {
  id: string;
  kind: string;
  idempotency_key: string;
  effective_at: Date;
  recorded_at: Date;
  order_id: string | null;
  event_id: string | null;
  policy_hash: string | null;
  hold_id: string | null;
  memo: string | null;
  entries: Entry[];
}

export function signedAmount(entry: EntryInput): bigint {
  return entry.side === "credit" ? entry.amount_minor : -entry.amount_minor;
}
