import type { Account, AccountPurpose, PartyKind } from "../../core/ledger/types.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPartyKinds } from "../../store/parties-sql.ts";
import { accountKey, ensureAccountsDetailed } from "../ledger/accounts.ts";

// Parties are never deleted and an account's id never changes, so a process
// keeps what it has seen. Account status is still checked by the journal
// writer on every batch; this cache only saves the lookups. A party's kind
// never changes, but it may be deactivated: another process sees that within
// party_status_cache_ms (decisions §21).
const party_kind_cache = new Map<string, { kind: PartyKind; inactive: boolean; cached_at_ms: number }>();
export const party_status_cache_ms = 30_000;
const account_cache = new Map<string, Account>();
const cache_entries_max = 200_000;

// Credit-heavy shared parties get spread balances (docs/decisions.md §3).
/** Kinds with a leg in most orders: bucketed, and not listed in order_parties (migration 007). */
export const shared_kinds: ReadonlySet<PartyKind> = new Set(["platform", "psp", "tax", "logistics"]);
export const shared_bucket_count = 16;

export async function partyKinds(
  tx: Queryable,
  tenant_id: string,
  party_ids: Iterable<string>,
  options: { active_only?: boolean } = {},
): Promise<Map<string, PartyKind>> {
  const result = new Map<string, PartyKind>();
  const missing: string[] = [];
  const now_ms = Date.now();
  for (const id of new Set(party_ids)) {
    const cached = party_kind_cache.get(`${tenant_id}\u0000${id}`);
    if (cached === undefined || now_ms - cached.cached_at_ms > party_status_cache_ms) missing.push(id);
    else if (!(options.active_only && cached.inactive)) result.set(id, cached.kind);
  }
  if (missing.length > 0) {
    const rows = await selectPartyKinds(tx, tenant_id, missing);
    if (party_kind_cache.size > cache_entries_max) party_kind_cache.clear();
    for (const row of rows) {
      party_kind_cache.set(`${tenant_id}\u0000${row.id}`, {
        kind: row.kind,
        inactive: row.inactive,
        cached_at_ms: now_ms,
      });
      if (!(options.active_only && row.inactive)) result.set(row.id, row.kind);
    }
  }
  return result;
}

/** This process forgets what it knew of a party, after its status changed. */
export function forgetParty(tenant_id: string, party_id: string): void {
  party_kind_cache.delete(`${tenant_id}\u0000${party_id}`);
}

export interface PartyAccountSpec {
  party_id: string;
  purpose: AccountPurpose;
  currency: string;
}

/** Opens (once) and returns the accounts named, keyed by accountKey. Every party must exist. */
export async function partyAccounts(
  tx: Queryable,
  tenant_id: string,
  specs: readonly PartyAccountSpec[],
  kinds: ReadonlyMap<string, PartyKind>,
  now: Date,
): Promise<Map<string, Account>> {
  const result = new Map<string, Account>();
  const missing: PartyAccountSpec[] = [];
  for (const spec of specs) {
    const key = accountKey(spec);
    const cached = account_cache.get(`${tenant_id}\u0000${key}`);
    if (cached === undefined) missing.push(spec);
    else result.set(key, cached);
  }
  if (missing.length > 0) {
    const { accounts: opened, created } = await ensureAccountsDetailed(
      tx,
      tenant_id,
      missing.map((spec) => ({
        ...spec,
        // Held balances are credited by every booking and debited in release
        // batches, so every party's held account is bucketed, and so is every
        // account of a shared party.
        bucket_count:
          spec.purpose === "held" || shared_kinds.has(kinds.get(spec.party_id) ?? "merchant")
            ? shared_bucket_count
            : 1,
      })),
      now,
    );
    if (account_cache.size > cache_entries_max) account_cache.clear();
    for (const [key, account] of opened) {
      // An account this transaction created exists only if it commits; a
      // rolled-back retry must not leave its id in a cache other requests read.
      if (!created.has(key)) account_cache.set(`${tenant_id}\u0000${key}`, account);
      result.set(key, account);
    }
  }
  return result;
}

export function accountFor(accounts: ReadonlyMap<string, Account>, spec: PartyAccountSpec): Account {
  const account = accounts.get(accountKey(spec));
  if (account === undefined) throw new Error(`account ${accountKey(spec)} was not opened`);
  return account;
}
