import { assert } from "../../core/assert.ts";
import { isCurrency } from "../../core/currency.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import {
  type Account,
  type AccountPurpose,
  account_purposes,
  type PartyKind,
  party_kinds,
  purposes_allowed_negative,
} from "../../core/ledger/types.ts";
import { id_length_max, name_length_max, tenant_id_length_max } from "../../core/limits.ts";
import {
  closeAccountRow,
  insertAccountsWithBalances,
  selectAccountsByTriple,
} from "../../store/accounts-sql.ts";
import type { Queryable } from "../../store/database.ts";
import {
  insertParty,
  type PartyRow,
  partyExists,
  selectKnownPartyIds,
  selectPartyRow,
} from "../../store/parties-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { insertTenant } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";

export type Party = PartyRow;

const tenant_id_pattern = new RegExp(`^[a-z0-9][a-z0-9-]{0,${tenant_id_length_max - 1}}$`);

export async function ensureTenant(ctx: ServiceContext, tenant: { id: string; name: string }): Promise<void> {
  if (!tenant_id_pattern.test(tenant.id)) {
    throw new DomainError(
      "tenant_id_invalid",
      `tenant id must be 1-${tenant_id_length_max} lowercase letters, digits or dashes`,
      "id",
    );
  }
  await insertTenant(ctx.db, tenant);
}

export interface PartyInput {
  id: string;
  kind: PartyKind;
  name: string;
  parent_id?: string | null | undefined;
  settlement?: Record<string, unknown> | undefined;
}

/** Creates a party, or returns the existing one when the same id is sent again with the same facts. */
export async function createParty(ctx: ServiceContext, tenant_id: string, input: PartyInput): Promise<Party> {
  if (typeof input.id !== "string" || input.id.length === 0 || input.id.length > id_length_max) {
    throw new DomainError("party_id_invalid", `id must be 1 to ${id_length_max} characters`, "id");
  }
  if (!party_kinds.includes(input.kind)) {
    throw new DomainError("party_kind_invalid", `kind must be one of ${party_kinds.join(", ")}`, "kind");
  }
  if (typeof input.name !== "string" || input.name.length === 0 || input.name.length > name_length_max) {
    throw new DomainError("party_name_invalid", `name must be 1 to ${name_length_max} characters`, "name");
  }
  return inTransaction(ctx.db, async (tx) => {
    if (input.parent_id) {
      if (!(await partyExists(tx, tenant_id, input.parent_id)))
        throw new DomainError("party_not_found", `parent_id: no party ${input.parent_id}`, "parent_id");
    }
    await insertParty(
      tx,
      tenant_id,
      {
        id: input.id,
        kind: input.kind,
        name: input.name,
        parent_id: input.parent_id ?? null,
        settlement: input.settlement ?? {},
      },
      ctx.now(),
    );
    const party = await selectParty(tx, tenant_id, input.id);
    assert(party !== undefined, "party just written is missing");
    if (party.kind !== input.kind || party.name !== input.name) {
      throw new DomainError("party_exists", `party ${input.id} already exists with different facts`, "id");
    }
    return party;
  });
}

export function selectParty(tx: Queryable, tenant_id: string, id: string): Promise<Party | undefined> {
  return selectPartyRow(tx, tenant_id, id);
}

export interface AccountSpec {
  party_id: string;
  purpose: AccountPurpose;
  currency: string;
  /** Defaults by purpose: clearing, expense and debt may go negative. */
  allow_negative?: boolean | undefined;
  /** More than one spreads the balance over rows for hot, credit-heavy accounts. */
  bucket_count?: number | undefined;
}

export function accountKey(spec: { party_id: string; purpose: string; currency: string }): string {
  return `${spec.party_id}\u0000${spec.purpose}\u0000${spec.currency}`;
}

/**
 * Opens every account named, if it is not open yet, with its balance rows, and
 * returns them all keyed by accountKey. Safe under concurrency: inserts that
 * lose a race fall through to the select.
 */
export async function ensureAccounts(
  tx: Queryable,
  tenant_id: string,
  specs: readonly AccountSpec[],
  now: Date,
): Promise<Map<string, Account>> {
  return (await ensureAccountsDetailed(tx, tenant_id, specs, now)).accounts;
}

/**
 * As ensureAccounts, and says which accounts this transaction created. Those
 * exist only if the transaction commits, so callers must not cache them.
 */
export async function ensureAccountsDetailed(
  tx: Queryable,
  tenant_id: string,
  specs: readonly AccountSpec[],
  now: Date,
): Promise<{ accounts: Map<string, Account>; created: Set<string> }> {
  const wanted = new Map<string, AccountSpec>();
  for (const spec of specs) {
    if (!account_purposes.includes(spec.purpose)) {
      throw new DomainError(
        "account_purpose_invalid",
        `purpose must be one of ${account_purposes.join(", ")}`,
        "purpose",
      );
    }
    if (!isCurrency(spec.currency)) {
      throw new DomainError(
        "currency_invalid",
        `currency must be an ISO 4217 code, got ${JSON.stringify(spec.currency)}`,
        "currency",
      );
    }
    wanted.set(accountKey(spec), spec);
  }
  const list = [...wanted.values()];
  const found = await selectAccountsBySpec(tx, tenant_id, list);
  const missing = list.filter((spec) => !found.has(accountKey(spec)));
  const created = new Set<string>();
  if (missing.length > 0) {
    await insertAccounts(tx, tenant_id, missing, now);
    for (const [key, account] of await selectAccountsBySpec(tx, tenant_id, missing)) {
      found.set(key, account);
      created.add(key);
    }
  }
  for (const key of wanted.keys()) assert(found.has(key), `account ${key} could not be opened`);
  return { accounts: found, created };
}

async function insertAccounts(
  tx: Queryable,
  tenant_id: string,
  specs: readonly AccountSpec[],
  now: Date,
): Promise<void> {
  const known = new Set(
    await selectKnownPartyIds(tx, tenant_id, [...new Set(specs.map((spec) => spec.party_id))]),
  );
  for (const spec of specs) {
    if (!known.has(spec.party_id)) {
      throw new DomainError(
        "party_not_found",
        `no party ${JSON.stringify(spec.party_id)} in this tenant`,
        "party_id",
        {
          party_id: spec.party_id,
        },
      );
    }
  }
  // Balance rows only for the accounts this statement created (ids we made).
  await insertAccountsWithBalances(
    tx,
    tenant_id,
    specs.map((spec) => ({
      id: newId(),
      party_id: spec.party_id,
      purpose: spec.purpose,
      currency: spec.currency,
      allow_negative: spec.allow_negative ?? purposes_allowed_negative.has(spec.purpose),
      bucket_count: spec.bucket_count ?? 1,
    })),
    now,
  );
}

async function selectAccountsBySpec(
  tx: Queryable,
  tenant_id: string,
  specs: readonly AccountSpec[],
): Promise<Map<string, Account>> {
  const rows = await selectAccountsByTriple(tx, tenant_id, specs);
  return new Map(rows.map((row) => [accountKey(row), row]));
}

export async function openAccount(
  ctx: ServiceContext,
  tenant_id: string,
  spec: AccountSpec,
): Promise<Account> {
  const accounts = await inTransaction(ctx.db, (tx) => ensureAccounts(tx, tenant_id, [spec], ctx.now()));
  const account = accounts.get(accountKey(spec));
  assert(account !== undefined, "opened account is missing");
  return account;
}

export async function closeAccount(
  ctx: ServiceContext,
  tenant_id: string,
  account_id: string,
): Promise<void> {
  await closeAccountRow(ctx.db, tenant_id, account_id);
}
