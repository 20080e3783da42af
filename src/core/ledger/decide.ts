import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { type Account, signedAmount, type TransactionRequest } from "./types.ts";

export interface AvailableBalance {
  /** Posted balance across all of the account's buckets, minus pending holds out of it. */
  available_minor: bigint;
}

export type Decision = { accepted: true } | { accepted: false; error: DomainError };

/**
 * Decides, in order, which requests the current balances allow. A request is
 * taken whole or not at all; an account that may not go negative never does.
 * Pure: it only reads `available` and returns what it changed.
 */
export function decideBatch(
  requests: readonly TransactionRequest[],
  accounts: ReadonlyMap<string, Account>,
  available: Map<string, bigint>,
): Decision[] {
  return requests.map((request) => {
    const delta_by_account = new Map<string, bigint>();
    // Covered debits are backed by the order's own unspent credits: they are
    // applied but not checked, so the check sees only the other entries.
    const checked_by_account = new Map<string, bigint>();
    for (const entry of request.entries) {
      const delta_minor = signedAmount(entry);
      delta_by_account.set(entry.account_id, (delta_by_account.get(entry.account_id) ?? 0n) + delta_minor);
      if (entry.covered !== true)
        checked_by_account.set(
          entry.account_id,
          (checked_by_account.get(entry.account_id) ?? 0n) + delta_minor,
        );
    }
    for (const [account_id, delta_minor] of checked_by_account) {
      const account = accounts.get(account_id);
      assert(account !== undefined, `decideBatch: account ${account_id} was not prefetched`);
      if (account.allow_negative || delta_minor >= 0n) continue;
      const before_minor = available.get(account_id);
      assert(before_minor !== undefined, `decideBatch: balance of ${account_id} was not locked`);
      if (before_minor + delta_minor < 0n) {
        const index = request.entries.findIndex((entry) => entry.account_id === account_id);
        return {
          accepted: false,
          error: new DomainError(
            "insufficient_funds",
            `account ${account_id} has ${before_minor} available but entries[${index}] would take ${-delta_minor}`,
            `entries[${index}].account_id`,
            {
              account_id,
              available_minor: before_minor.toString(),
              requested_minor: (-delta_minor).toString(),
            },
          ),
        };
      }
    }
    for (const [account_id, delta_minor] of delta_by_account) {
      const before_minor = available.get(account_id);
      if (before_minor !== undefined) available.set(account_id, before_minor + delta_minor);
    }
    return { accepted: true };
  });
}
