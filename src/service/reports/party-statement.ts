import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { dayOf, type Period } from "../../core/reports/period.ts";
import { buildStatement, type Statement, type StatementInputRow } from "../../core/reports/statement-fold.ts";
import { dailySums, partyAccountsIn, partyCurrencies, tailPostings } from "../../store/account-daily-sql.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { selectPartyRow } from "../../store/parties-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import { assertPartyVisible } from "../parties/party-reads.ts";
import { latestCheckpoint, partyTransactionsAfter } from "./latest-checkpoint.ts";
import { postingKey, splitPostingPieces } from "./split-pieces.ts";

// The party statement: opening, movements by kind and closing, per currency
// and balance bucket. Read in one snapshot under the caller's row security:
// the folded daily aggregates for whole days, plus the postings of the
// transactions not folded yet (a split's credit cut into pieces by kind, as the
// fold does). Fast on years of data, exact to the unit.

export interface StatementRequest {
  party_id: string;
  currency?: string | undefined;
  period: Period;
}

export async function partyStatement(
  db: Database,
  scope: ReadScope,
  request: StatementRequest,
  now: Date,
): Promise<Statement> {
  return withReadScope(db, scope, (tx) => statementIn(tx, scope, request, now));
}

/** The statement read through `tx`, which the caller has scoped. */
export async function statementIn(
  tx: Queryable,
  scope: ReadScope,
  request: StatementRequest,
  now: Date,
): Promise<Statement> {
  await assertPartyVisible(tx, scope, request.party_id);
  const tenant_id = scope.tenant_id;
  const party = await selectPartyRow(tx, tenant_id, request.party_id);
  const currency = await statementCurrencyOf(tx, tenant_id, request.party_id, request.currency);
  const accounts = await partyAccountsIn(tx, tenant_id, request.party_id, currency);
  const purpose_of = new Map(accounts.map((account) => [account.id, account.purpose]));
  const ids = accounts.map((account) => account.id);
  const { from, to } = request.period;
  const rows = new Map<string, StatementInputRow>();
  const rowOf = (account_id: string, kind: string): StatementInputRow => {
    const key = `${account_id}\u0000${kind}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        purpose: purpose_of.get(account_id) ?? "",
        journal_kind: kind,
        before_minor: 0n,
        within_minor: 0n,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const sums of await dailySums(tx, tenant_id, ids, dayOf(from), dayOf(to))) {
    const row = rowOf(sums.account_id, sums.kind);
    row.before_minor += sums.before_minor;
    row.within_minor += sums.within_minor;
  }
  const tail = await tailPostings(tx, tenant_id, ids, to);
  const cut = await splitPostingPieces(
    tx,
    tenant_id,
    tail
      .filter((posting) => posting.kind === "split" && purpose_of.get(posting.account_id) === "held")
      .map((posting) => ({
        ...posting,
        party_id: request.party_id,
        amount_minor: BigInt(posting.amount_minor),
      })),
  );
  for (const posting of tail) {
    const before = posting.effective_at.getTime() < from.getTime();
    const pieces = cut.get(postingKey(posting.transaction_id, Number(posting.seq))) ?? [
      { kind: posting.kind, amount_minor: BigInt(posting.amount_minor) },
    ];
    for (const piece of pieces) {
      const row = rowOf(posting.account_id, piece.kind);
      if (before) row.before_minor += piece.amount_minor;
      else row.within_minor += piece.amount_minor;
    }
  }
  const checkpoint = await latestCheckpoint(tx, tenant_id);
  return buildStatement(
    {
      party_id: request.party_id,
      party_name: party?.name ?? request.party_id,
      currency,
      period: request.period,
      checkpoint: checkpoint?.ref ?? null,
      transactions_after_checkpoint: await partyTransactionsAfter(
        tx,
        tenant_id,
        request.party_id,
        checkpoint?.ref.size ?? 0,
      ),
      generated_at: now,
    },
    [...rows.values()],
  );
}

/** The statement's currency: the one asked (which the party must have used), or the party's only one. */
export async function statementCurrencyOf(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
  asked: string | undefined,
): Promise<string> {
  const currencies = await partyCurrencies(tx, tenant_id, party_id);
  if (asked !== undefined) {
    if (!currencies.includes(asked))
      throw new DomainError(
        "report_currency_unused",
        `party ${party_id} has no ${asked} accounts (it uses ${currencies.join(", ") || "no currency yet"})`,
        "currency",
      );
    return asked;
  }
  if (currencies.length === 1) return currencies[0]!;
  if (currencies.length === 0)
    throw new DomainError("report_currency_unused", `party ${party_id} has no accounts yet`, "currency");
  throw new DomainError(
    "report_currency_required",
    `party ${party_id} uses ${currencies.join(", ")}: name one with currency=`,
    "currency",
  );
}
