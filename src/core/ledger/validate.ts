import { isCurrency } from "../currency.ts";
import { DomainError } from "../errors.ts";
import { amount_minor_max } from "../money.ts";
import {
  entries_per_transaction_max,
  idempotency_key_length_max,
  kind_length_max,
  memo_length_max,
} from "./ledger-limits.ts";
import { type Account, signedAmount, type TransactionRequest } from "./types.ts";

/** Checks a request's shape and balance before any I/O. Throws a DomainError naming the field. */
export function validateTransactionRequest(request: TransactionRequest): void {
  const key = request.idempotency_key;
  if (typeof key !== "string" || key.length === 0 || key.length > idempotency_key_length_max) {
    throw new DomainError(
      "idempotency_key_invalid",
      `idempotency_key must be 1 to ${idempotency_key_length_max} characters`,
      "idempotency_key",
    );
  }
  if (
    typeof request.kind !== "string" ||
    !/^[a-z][a-z0-9_]*$/.test(request.kind) ||
    request.kind.length > kind_length_max
  ) {
    throw new DomainError(
      "kind_invalid",
      `kind must be a snake_case word of at most ${kind_length_max} characters`,
      "kind",
    );
  }
  if (request.memo !== undefined && request.memo.length > memo_length_max) {
    throw new DomainError("memo_too_long", `memo must be at most ${memo_length_max} characters`, "memo");
  }
  const entries = request.entries;
  if (!Array.isArray(entries) || entries.length < 2 || entries.length > entries_per_transaction_max) {
    throw new DomainError(
      "entries_count_invalid",
      `a transaction needs 2 to ${entries_per_transaction_max} entries, got ${Array.isArray(entries) ? entries.length : 0}`,
      "entries",
    );
  }
  const sum_by_currency = new Map<string, bigint>();
  entries.forEach((entry, index) => {
    const field = `entries[${index}]`;
    if (entry.side !== "debit" && entry.side !== "credit") {
      throw new DomainError("side_invalid", `${field}.side must be "debit" or "credit"`, `${field}.side`);
    }
    if (entry.covered !== undefined && (entry.covered !== true || entry.side !== "debit")) {
      throw new DomainError("covered_invalid", `${field}.covered may only mark a debit`, `${field}.covered`);
    }
    if (!isCurrency(entry.currency)) {
      throw new DomainError(
        "currency_invalid",
        `${field}.currency must be an ISO 4217 code, got ${JSON.stringify(entry.currency)}`,
        `${field}.currency`,
      );
    }
    if (typeof entry.amount_minor !== "bigint" || entry.amount_minor <= 0n) {
      throw new DomainError(
        "amount_not_positive",
        `${field}.amount_minor must be greater than zero, got ${String(entry.amount_minor)}`,
        `${field}.amount_minor`,
      );
    }
    if (entry.amount_minor > amount_minor_max) {
      throw new DomainError(
        "amount_too_large",
        `${field}.amount_minor must be at most ${amount_minor_max}, got ${entry.amount_minor}`,
        `${field}.amount_minor`,
      );
    }
    sum_by_currency.set(entry.currency, (sum_by_currency.get(entry.currency) ?? 0n) + signedAmount(entry));
  });
  for (const [currency, sum] of sum_by_currency) {
    if (sum !== 0n) {
      throw new DomainError(
        "transaction_unbalanced",
        `entries in ${currency} do not balance: credits minus debits is ${sum}, it must be 0`,
        "entries",
        { currency, imbalance_minor: sum.toString() },
      );
    }
  }
}

/** Checks each entry against the account it names. `accounts` holds what exists in the tenant. */
export function validateEntriesAgainstAccounts(
  request: TransactionRequest,
  accounts: ReadonlyMap<string, Account>,
): void {
  request.entries.forEach((entry, index) => {
    const field = `entries[${index}].account_id`;
    const account = accounts.get(entry.account_id);
    if (account === undefined) {
      throw new DomainError(
        "account_not_found",
        `${field}: no account ${entry.account_id} in this tenant`,
        field,
      );
    }
    if (account.status !== "open") {
      throw new DomainError("account_closed", `${field}: account ${entry.account_id} is closed`, field);
    }
    if (account.currency !== entry.currency) {
      throw new DomainError(
        "currency_mismatch",
        `entries[${index}].currency is ${entry.currency} but account ${entry.account_id} holds ${account.currency}`,
        `entries[${index}].currency`,
      );
    }
  });
}
