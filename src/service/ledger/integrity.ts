import type { Queryable } from "../../store/database.ts";
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
  const orphaned = await db.query<{ account_id: string; postings_minor: bigint }>(
    `SELECT p.account_id::text, sum(p.amount_minor)::int8 AS postings_minor FROM postings p
      WHERE p.tenant_id = $1
        AND NOT EXISTS (SELECT 1 FROM balances b WHERE b.tenant_id = p.tenant_id AND b.account_id = p.account_id)
      GROUP BY p.account_id`,
    [tenant_id],
  );
  for (const row of orphaned) findings.push(orphanFinding(row.account_id, row.postings_minor));
  findings.push(...(await floorFindings(db, tenant_id)));
  const [counts] = await db.query<{ accounts: bigint; postings: bigint }>(
    `SELECT (SELECT count(*) FROM accounts WHERE tenant_id = $1)::int8 AS accounts,
            (SELECT count(*) FROM postings WHERE tenant_id = $1)::int8 AS postings`,
    [tenant_id],
  );
  return {
    tenant_id,
    accounts: Number(counts?.accounts ?? 0n),
    postings: counts?.postings ?? 0n,
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
  const below = await db.query<{ account_id: string; available_minor: bigint }>(
    `SELECT a.id::text AS account_id, (sum(b.posted_minor) - sum(b.pending_out_minor))::int8 AS available_minor
       FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND NOT a.allow_negative
      GROUP BY a.id HAVING sum(b.posted_minor) - sum(b.pending_out_minor) < 0`,
    [tenant_id],
  );
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
