import { DomainError } from "../../core/errors.ts";
import { entries_page_size_max } from "../../core/ledger/ledger-limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import { type PartyRow, selectPartyRow, selectPartyRows } from "../../store/parties-sql.ts";
import {
  type PartyEntryRow,
  selectPartyEntries,
  selectPartyPurposeBalances,
} from "../../store/party-ledger-sql.ts";
import { entryCursor, entryCursorKey } from "../ledger/ledger-reads.ts";
import type { ReadScope } from "../orders/order-reads.ts";

/** A party-scoped caller may only name its own party; any other is "not found". */
export async function assertPartyVisible(db: Queryable, scope: ReadScope, party_id: string): Promise<void> {
  const visible = scope.party_id === null || scope.party_id === party_id;
  const party = visible ? await selectPartyRow(db, scope.tenant_id, party_id) : undefined;
  if (party === undefined)
    throw new DomainError("party_not_found", `no party ${JSON.stringify(party_id)}`, "id");
}

/** The largest page of GET /v1/parties. */
export const parties_page_max = 200;

/** One party, if the scope sees it; another party's is "not found". */
export async function getParty(db: Queryable, scope: ReadScope, party_id: string): Promise<PartyRow> {
  const party =
    scope.party_id === null || scope.party_id === party_id
      ? await selectPartyRow(db, scope.tenant_id, party_id)
      : undefined;
  if (party === undefined)
    throw new DomainError("party_not_found", `no party ${JSON.stringify(party_id)}`, "id");
  return party;
}

/** Parties by id, a page at a time; a party-scoped caller sees only its own. */
export async function listParties(
  db: Queryable,
  scope: ReadScope,
  options: { kind?: string | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<Page<PartyRow>> {
  const limit = pageLimit(options.limit, 100, parties_page_max);
  const after_id = options.cursor === undefined ? null : decodeCursor("parties", options.cursor, ["id"])[0];
  const rows = await selectPartyRows(db, scope.tenant_id, {
    party_id: scope.party_id,
    kind: options.kind ?? null,
    after_id,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "parties", (row) => [row.id]);
}

export interface PartyBalance {
  currency: string;
  held_minor: bigint;
  available_minor: bigint;
  in_transit_minor: bigint;
  /** What the party owes (refunds its available balance could not cover), as a positive amount. */
  debt_minor: bigint;
  pending_out_minor: bigint;
}

/** Balances per currency now, or as of an instant (posted amounts only). */
export async function partyBalances(
  db: Queryable,
  scope: ReadScope,
  party_id: string,
  as_of?: Date,
): Promise<PartyBalance[]> {
  await assertPartyVisible(db, scope, party_id);
  const rows = await selectPartyPurposeBalances(db, scope.tenant_id, party_id, as_of);
  const by_currency = new Map<string, PartyBalance>();
  for (const row of rows) {
    const balance = by_currency.get(row.currency) ?? {
      currency: row.currency,
      held_minor: 0n,
      available_minor: 0n,
      in_transit_minor: 0n,
      debt_minor: 0n,
      pending_out_minor: 0n,
    };
    if (row.purpose === "held") balance.held_minor += row.posted_minor;
    if (row.purpose === "available") {
      balance.available_minor += row.posted_minor - row.pending_out_minor;
      balance.pending_out_minor += row.pending_out_minor;
    }
    if (row.purpose === "in_transit") balance.in_transit_minor += row.posted_minor;
    if (row.purpose === "debt") balance.debt_minor += -row.posted_minor;
    by_currency.set(row.currency, balance);
  }
  return [...by_currency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

export type PartyEntry = PartyEntryRow;

export async function partyEntries(
  db: Queryable,
  scope: ReadScope,
  party_id: string,
  options: {
    cursor?: string | undefined;
    limit?: number | undefined;
    purpose?: string | undefined;
    currency?: string | undefined;
    order_id?: string | undefined;
  },
): Promise<{ items: PartyEntry[]; next_cursor: string | null }> {
  await assertPartyVisible(db, scope, party_id);
  const limit = pageLimit(options.limit, 100, entries_page_size_max);
  const after = options.cursor === undefined ? null : entryCursor("party_entries", options.cursor);
  const rows = await selectPartyEntries(db, scope.tenant_id, party_id, {
    purpose: options.purpose ?? null,
    currency: options.currency ?? null,
    order_id: options.order_id ?? null,
    after,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "party_entries", entryCursorKey, (row) => ({ ...row, seq: Number(row.seq) }));
}
