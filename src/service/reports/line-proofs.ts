import type { ReadScope } from "../../core/auth/scope.ts";
import { line_proofs_per_page_max } from "../../core/limits.ts";
import { decodeCursor, encodeCursor, pageLimit } from "../../core/page.ts";
import { journalKindOnLine } from "../../core/reports/kinds.ts";
import type { Period } from "../../core/reports/period.ts";
import { partyAccountsIn } from "../../store/account-daily-sql.ts";
import { selectTransactionTotalsOnAccounts } from "../../store/report-postings-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ProofBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { assertPartyVisible } from "../parties/party-reads.ts";
import { proofBundle } from "../tlog/proofs.ts";
import { statementCurrencyOf } from "./party-statement.ts";
import { splitLineAmounts } from "./split-pieces.ts";

// The entries behind one line of a party's statement, each with its proof
// bundle: the party can check, transaction by transaction, that what the line
// sums is in the log (docs/reports.md). Every journal transaction is a log
// record whose id is the transaction's id. Paged by transaction id (UUIDv7,
// so roughly in time order); the amounts of all pages sum to the line. A split
// is cut into pieces by kind as the statement cuts it, so it is listed under
// each line it has a piece on, with that piece as its amount.

const scan_page_rows = 500;
const scan_rounds_max = 40;

export interface LineProofRequest {
  party_id: string;
  currency?: string | undefined;
  period: Period;
  kind: string;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface LineProofItem {
  transaction_id: string;
  journal_kind: string;
  effective_at: string;
  /** The transaction's part of the line: Σ of its postings on the party's accounts (of a split, its piece of this kind). */
  amount_minor: bigint;
  bundle: ProofBundle;
}

export async function statementLineProofs(
  ctx: ServiceContext,
  scope: ReadScope,
  request: LineProofRequest,
): Promise<{
  party_id: string;
  currency: string;
  kind: string;
  items: LineProofItem[];
  next_cursor: string | null;
}> {
  const limit = pageLimit(request.limit, 20, line_proofs_per_page_max);
  const after =
    request.cursor === undefined ? null : decodeCursor("line_proofs", request.cursor, ["uuid"])[0];
  const { currency, rows, resume } = await withReadScope(ctx.db, scope, async (tx) => {
    await assertPartyVisible(tx, scope, request.party_id);
    const currency = await statementCurrencyOf(tx, scope.tenant_id, request.party_id, request.currency);
    const accounts = await partyAccountsIn(tx, scope.tenant_id, request.party_id, currency);
    // Scanned in pages of transactions; those of other line kinds are skipped in memory.
    const found: { transaction_id: string; kind: string; effective_at: Date; amount_minor: bigint }[] = [];
    let cursor = after;
    for (let round = 0; round < scan_rounds_max; round++) {
      const page = await selectTransactionTotalsOnAccounts(
        tx,
        scope.tenant_id,
        accounts.map((account) => account.id),
        { from: request.period.from, to: request.period.to, after: cursor },
        scan_page_rows,
      );
      const split_amounts = await splitLineAmounts(
        tx,
        scope.tenant_id,
        request.party_id,
        accounts,
        page.filter((row) => row.kind === "split").map((row) => row.transaction_id),
        request.kind,
      );
      for (const row of page) {
        const amount_minor =
          row.kind === "split" ? split_amounts.get(row.transaction_id) : BigInt(row.amount_minor);
        if (row.kind === "split" ? amount_minor === undefined : !journalKindOnLine(row.kind, request.kind))
          continue;
        found.push({ ...row, amount_minor: amount_minor! });
        // One past the page tells whether there is a next one; the cursor then is the page's last item.
        if (found.length > limit) return { currency, rows: found, resume: null };
      }
      if (page.length < scan_page_rows) return { currency, rows: found, resume: null };
      cursor = page[page.length - 1]!.transaction_id;
    }
    // Scanned enough for one request: the next page resumes where the scan stopped.
    return { currency, rows: found, resume: cursor };
  });
  const page = rows.slice(0, limit);
  const proof_scope = { party_id: scope.party_id };
  const items: LineProofItem[] = [];
  for (const row of page)
    items.push({
      transaction_id: row.transaction_id,
      journal_kind: row.kind,
      effective_at: row.effective_at.toISOString(),
      amount_minor: row.amount_minor,
      bundle: await proofBundle(ctx, scope.tenant_id, row.transaction_id, proof_scope),
    });
  const last = page[page.length - 1];
  return {
    party_id: request.party_id,
    currency,
    kind: request.kind,
    items,
    next_cursor:
      rows.length > limit && last !== undefined
        ? encodeCursor("line_proofs", [last.transaction_id])
        : resume === null
          ? null
          : encodeCursor("line_proofs", [resume]),
  };
}
