import { assert } from "../core/assert.ts";
import {
  balanceFinding,
  checkLedgerIntegrity,
  floorFindings,
  type LedgerFinding,
  orphanFinding,
  trialBalanceFindings,
} from "../service/ledger/integrity.ts";
import type { Queryable } from "../store/database.ts";

// The ledger's invariants at a cost that does not grow with the run
// (docs/decisions.md §28). Postings are append-only, so the simulation keeps
// its own running sum per account of every posting it has read, and at each
// check reads only the postings written since the last one: journal
// transaction ids are UUIDv7, generated in one process and committed one
// after another, so "written since" is "id above the high-water mark", an
// index range scan. Balances are few (one row per account bucket, bounded by
// the marketplace, not by the run), so every check compares all of them with
// the running sums, and the trial balance and floors read them all too.
//
// What the incremental check cannot see is a posting changed after it was
// read. The full check (`fullLedgerFindings`), at intervals that double with
// the run and at the end, rescans every posting: it runs the same check as
// `clearsplit verify db` and compares the rescanned sums with the running ones.

/** The nil UUID: below every transaction id. */
const transaction_id_min = "00000000-0000-0000-0000-000000000000";

export interface LedgerTally {
  /** The largest journal transaction id whose postings are in `postings_by_account`. */
  high_water_transaction_id: string;
  postings_by_account: Map<string, bigint>;
  postings_count: bigint;
}

export function emptyLedgerTally(): LedgerTally {
  return {
    high_water_transaction_id: transaction_id_min,
    postings_by_account: new Map(),
    postings_count: 0n,
  };
}

/** Adds the postings written since the last call to the running sums. Returns how many it read. */
export async function absorbNewPostings(
  db: Queryable,
  tenant_id: string,
  tally: LedgerTally,
): Promise<bigint> {
  const rows = await db.query<{
    account_id: string;
    amount_minor: bigint;
    postings: bigint;
    last_id: string;
  }>(
    `SELECT account_id::text, sum(amount_minor)::int8 AS amount_minor, count(*)::int8 AS postings,
            max(transaction_id::text) AS last_id
       FROM postings WHERE tenant_id = $1 AND transaction_id > $2::uuid GROUP BY account_id`,
    [tenant_id, tally.high_water_transaction_id],
  );
  let read = 0n;
  let last_id = tally.high_water_transaction_id;
  for (const row of rows) {
    const sum_minor = tally.postings_by_account.get(row.account_id) ?? 0n;
    tally.postings_by_account.set(row.account_id, sum_minor + BigInt(row.amount_minor));
    read += BigInt(row.postings);
    if (row.last_id > last_id) last_id = row.last_id;
  }
  assert(rows.length === 0 || last_id > tally.high_water_transaction_id, "the high-water mark moves forward");
  tally.high_water_transaction_id = last_id;
  tally.postings_count += read;
  return read;
}

/** Trial balance, floors, and every balance against the running sums of its postings. */
export async function incrementalLedgerFindings(
  db: Queryable,
  tenant_id: string,
  tally: LedgerTally,
): Promise<LedgerFinding[]> {
  await absorbNewPostings(db, tenant_id, tally);
  const findings = await trialBalanceFindings(db, tenant_id);
  const balances = await db.query<{ account_id: string; balance_minor: bigint }>(
    `SELECT account_id::text, sum(posted_minor)::int8 AS balance_minor FROM balances
      WHERE tenant_id = $1 GROUP BY account_id`,
    [tenant_id],
  );
  const with_balance = new Set<string>();
  for (const row of balances) {
    with_balance.add(row.account_id);
    const postings_minor = tally.postings_by_account.get(row.account_id) ?? 0n;
    if (BigInt(row.balance_minor) !== postings_minor)
      findings.push(balanceFinding(row.account_id, BigInt(row.balance_minor), postings_minor));
  }
  for (const [account_id, postings_minor] of tally.postings_by_account)
    if (!with_balance.has(account_id)) findings.push(orphanFinding(account_id, postings_minor));
  findings.push(...(await floorFindings(db, tenant_id)));
  return findings;
}

/** The `verify db` ledger check over every row, and every posting's sum against the running one. */
export async function fullLedgerFindings(
  db: Queryable,
  tenant_id: string,
  tally: LedgerTally,
): Promise<LedgerFinding[]> {
  await absorbNewPostings(db, tenant_id, tally);
  const integrity = await checkLedgerIntegrity(db, tenant_id);
  const findings = [...integrity.findings];
  if (integrity.postings !== tally.postings_count)
    findings.push({
      finding: "BALANCE",
      detail: `${integrity.postings} postings stored, but ${tally.postings_count} were read as they were written`,
    });
  const rescanned = await db.query<{ account_id: string; postings_minor: bigint }>(
    `SELECT account_id::text, sum(amount_minor)::int8 AS postings_minor FROM postings
      WHERE tenant_id = $1 GROUP BY account_id`,
    [tenant_id],
  );
  const seen = new Set<string>();
  for (const row of rescanned) {
    seen.add(row.account_id);
    const running_minor = tally.postings_by_account.get(row.account_id) ?? 0n;
    if (BigInt(row.postings_minor) !== running_minor)
      findings.push({
        finding: "BALANCE",
        detail: `account ${row.account_id}'s postings sum to ${row.postings_minor} now, but to ${running_minor} as they were written: a posting changed after it was written`,
      });
  }
  for (const [account_id, running_minor] of tally.postings_by_account)
    if (!seen.has(account_id) && running_minor !== 0n)
      findings.push({
        finding: "BALANCE",
        detail: `account ${account_id}'s postings vanished (${running_minor})`,
      });
  return findings;
}
