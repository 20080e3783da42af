import type { Queryable } from "../../store/database.ts";
import {
  selectAccountsBelowFloor,
  selectLedgerCounts,
  selectOrphanedPostings,
} from "../../store/ledger-reads-sql.ts";
import { balanceMismatches, trialBalance } from "./ledger-reads.ts";

// The ledger's own invariants, checked from the rows alone (no log needed):
// each currency's balances sum to zero, every balance equals the sum of its
// postings, and no restricted account sits below its floor. `verify db`,
// restore, the crash test and the simulation all ask this one question.

export interface LedgerFinding {
  finding: "TRIAL_BALANCE" | "BALANCE" | "FLOOR";
  detail: string;
}

export interface LedgerIntegrity {
  tenant_id: string;
  accounts: number;
  postings: bigint;
  findings: LedgerFinding[];
  clean: boolean;
}

export async function checkLedgerIntegrity(db: Queryable, tenant_id: string): Promise<LedgerIntegrity> {
  const findings: LedgerFinding[] = await trialBalanceFindings(db, tenant_id);
  for (const mismatch of await balanceMismatches(db, tenant_id)) {
    findings.push(balanceFinding(mismatch.account_id, mismatch.balance_minor, mismatch.postings_minor));
  }
  // Postings on an account that has no balance row at all.
  const orphaned = await selectOrphanedPostings(db, tenant_id);
  for (const row of orphaned) findings.push(orphanFinding(row.account_id, row.postings_minor));
  findings.push(...(await floorFindings(db, tenant_id)));
  const counts = await selectLedgerCounts(db, tenant_id);
  return {
    tenant_id,
    accounts: Number(counts.accounts),
    postings: counts.postings,
    findings,
    clean: findings.length === 0,
  };
}

/** Each currency's balances sum to zero. Reads the balance rows only (one per account bucket), never the postings. */
export async function trialBalanceFindings(db: Queryable, tenant_id: string): Promise<LedgerFinding[]> {
  const findings: LedgerFinding[] = [];
  for (const total of await trialBalance(db, tenant_id)) {
    if (total.total_minor !== 0n)
      findings.push({
        finding: "TRIAL_BALANCE",
        detail: `balances in ${total.currency} sum to ${total.total_minor}, not 0`,
      });
  }
  return findings;
}

/** No restricted account below its floor. Reads the balance rows only. */
export async function floorFindings(db: Queryable, tenant_id: string): Promise<LedgerFinding[]> {
  const below = await selectAccountsBelowFloor(db, tenant_id);
  return below.map((row) => ({
    finding: "FLOOR",
    detail: `restricted account ${row.account_id} is at ${row.available_minor}, below 0`,
  }));
}

export function balanceFinding(
  account_id: string,
  balance_minor: bigint,
  postings_minor: bigint,
): LedgerFinding {
  return {
    finding: "BALANCE",
    detail: `account ${account_id} holds ${balance_minor} but its postings sum to ${postings_minor}`,
  };
}

export function orphanFinding(account_id: string, postings_minor: bigint): LedgerFinding {
  return {
    finding: "BALANCE",
    detail: `account ${account_id} has postings summing to ${postings_minor} but no balance`,
  };
}
