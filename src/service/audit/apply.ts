import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { type AccountPurpose, account_purposes, type TransactionRequest } from "../../core/ledger/types.ts";
import { adjustment_entries_max } from "../../core/limits.ts";
import type { CaseRow } from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectSplitPlatform } from "../../store/ledger-reads-sql.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { heldByOrder } from "../orders/held.ts";
import { lockOrder } from "../orders/order-lookups.ts";
import { accountFor, partyAccounts, partyKinds } from "../orders/party-accounts.ts";

// What a decision does to the ledger. A reversal moves exactly what the order
// still holds for each party into the platform's suspense account; an
// adjustment posts the correcting entries finance gave. Both are ordinary
// balanced journal transactions (so the trial balance stays zero and each is
// a log record), keyed by the case so a retry cannot post twice.

export interface AdjustmentEntry {
  party_id: string;
  purpose: AccountPurpose;
  side: "debit" | "credit";
  amount_minor: number;
}

/** Checks an adjustment's entries when it is proposed: shape, purposes, balance in the case's currency. */
export function parseAdjustment(value: unknown, row: CaseRow): AdjustmentEntry[] {
  const bad = (message: string, field = "entries") => new DomainError("adjustment_invalid", message, field);
  if (!Array.isArray(value) || value.length < 2 || value.length > adjustment_entries_max)
    throw bad(`entries must hold 2 to ${adjustment_entries_max} entries`);
  let sum = 0n;
  const entries = value.map((raw, index) => {
    const field = `entries[${index}]`;
    if (typeof raw !== "object" || raw === null) throw bad(`${field} must be an object`, field);
    const { party_id, purpose, side, amount_minor } = raw as Record<string, unknown>;
    if (typeof party_id !== "string" || party_id.length < 1 || party_id.length > 128)
      throw bad(`${field}.party_id must be a party id`, `${field}.party_id`);
    if (typeof purpose !== "string" || !(account_purposes as readonly string[]).includes(purpose))
      throw bad(`${field}.purpose must be one of ${account_purposes.join(", ")}`, `${field}.purpose`);
    if (side !== "debit" && side !== "credit")
      throw bad(`${field}.side must be debit or credit`, `${field}.side`);
    if (typeof amount_minor !== "number" || !Number.isSafeInteger(amount_minor) || amount_minor <= 0)
      throw bad(`${field}.amount_minor must be a positive integer`, `${field}.amount_minor`);
    sum += side === "credit" ? BigInt(amount_minor) : -BigInt(amount_minor);
    return { party_id, purpose: purpose as AccountPurpose, side, amount_minor } as AdjustmentEntry;
  });
  if (sum !== 0n) throw bad(`debits and credits must balance in ${row.currency}; they differ by ${sum}`);
  return entries;
}

export async function applyReversal(
  tx: Queryable,
  tenant_id: string,
  row: CaseRow,
  reason: string,
  now: Date,
): Promise<string | null> {
  if (row.order_id === null)
    throw new DomainError(
      "decision_invalid",
      "reverse applies to a case on an order; this one is on a party",
      "decision",
    );
  const order = await lockOrder(tx, tenant_id, row.order_id);
  if (order.released_at !== null) {
    throw new DomainError(
      "case_order_released",
      `order ${order.id} was released before the case opened: correct it with adjust`,
      "decision",
    );
  }
  const held = (await heldByOrder(tx, tenant_id, [order.id])).get(order.id)!;
  const shares = [...held].filter(([, amount]) => amount > 0n).sort(([a], [b]) => (a < b ? -1 : 1));
  if (shares.length === 0) return null; // Fully refunded already: nothing is left to park.
  const platform = await platformOf(tx, tenant_id, order.transaction_id);
  const kinds = await partyKinds(tx, tenant_id, [platform, ...shares.map(([party]) => party)]);
  const specs = [
    { party_id: platform, purpose: "suspense" as const, currency: order.currency },
    ...shares.map(([party_id]) => ({ party_id, purpose: "held" as const, currency: order.currency })),
  ];
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  let total_minor = 0n;
  const debits = shares.map(([party_id, amount_minor]) => {
    total_minor += amount_minor;
    return {
      account_id: accountFor(accounts, { party_id, purpose: "held", currency: order.currency }).id,
      side: "debit" as const,
      amount_minor,
      currency: order.currency,
      // Exactly what the journal shows this order still holding, read under its row lock.
      covered: true as const,
    };
  });
  const request: TransactionRequest = {
    idempotency_key: `case:${row.id}:reverse`,
    kind: "audit_reversal",
    order_id: order.id,
    memo: reason.slice(0, 500),
    entries: [
      ...debits,
      {
        account_id: accountFor(accounts, {
          party_id: platform,
          purpose: "suspense",
          currency: order.currency,
        }).id,
        side: "credit",
        amount_minor: total_minor,
        currency: order.currency,
      },
    ],
  };
  return postOne(tx, tenant_id, request, now);
}

export async function applyAdjustment(
  tx: Queryable,
  tenant_id: string,
  row: CaseRow,
  input: unknown,
  reason: string,
  now: Date,
): Promise<string> {
  const entries = input as AdjustmentEntry[];
  assert(Array.isArray(entries) && entries.length >= 2, "an adjustment was checked when proposed");
  const kinds = await partyKinds(
    tx,
    tenant_id,
    entries.map((entry) => entry.party_id),
  );
  const unknown = entries.findIndex((entry) => !kinds.has(entry.party_id));
  if (unknown >= 0)
    throw new DomainError(
      "party_not_found",
      `no party ${entries[unknown]!.party_id}`,
      `entries[${unknown}].party_id`,
    );
  const specs = entries.map((entry) => ({
    party_id: entry.party_id,
    purpose: entry.purpose,
    currency: row.currency,
  }));
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  return postOne(
    tx,
    tenant_id,
    {
      idempotency_key: `case:${row.id}:adjust`,
      kind: "audit_adjustment",
      ...(row.order_id === null ? {} : { order_id: row.order_id }),
      memo: reason.slice(0, 500),
      entries: entries.map((entry, index) => ({
        account_id: accountFor(accounts, specs[index]!).id,
        side: entry.side,
        amount_minor: BigInt(entry.amount_minor),
        currency: row.currency,
      })),
    },
    now,
  );
}

async function postOne(
  tx: Queryable,
  tenant_id: string,
  request: TransactionRequest,
  now: Date,
): Promise<string> {
  const [result] = await writeJournalBatch(tx, tenant_id, [request], now);
  assert(result !== undefined, "a batch of one has one result");
  if (result.status === "rejected") throw result.error;
  return result.transaction.id;
}

/** The platform of an order: the owner of the clearing account its split debited. */
async function platformOf(tx: Queryable, tenant_id: string, transaction_id: string): Promise<string> {
  const party_id = await selectSplitPlatform(tx, tenant_id, transaction_id);
  assert(party_id !== undefined, `split ${transaction_id} has no clearing posting`);
  return party_id;
}
