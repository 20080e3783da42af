import { performance } from "node:perf_hooks";
import { newId } from "../core/ids.ts";
import { statement_days_max } from "../core/limits.ts";
import { day_ms, parsePeriod } from "../core/reports/period.ts";
import type { ServiceContext } from "../service/context.ts";
import { createParty, ensureTenant, openAccount } from "../service/ledger/accounts.ts";
import { partyStatement } from "../service/reports/party-statement.ts";
import { rebuildAccountDaily } from "../store/account-daily-sql.ts";
import { inTransaction } from "../store/retry.ts";

// `clearsplit bench --scenario report`: a monthly statement over one account
// with many postings (10,000,000 at full size, generated in SQL), read from
// the daily aggregates, against a naive statement that sums the postings, in
// the same run. The naive answer must equal the statement's to the unit.
// Size: --report-postings N, else 20,000 per --seconds (a short CI smoke).

export const report_postings_full = 10_000_000;
export const postings_per_transaction = 100;
const history_days = 3 * 365;
// Small statements: a long transaction holds back pg_snapshot_xmin for the
// whole server, which every log sequencer on it waits for.
const generate_chunk_transactions = 500;
const repeats = 5;
/** The naive statement is timed fewer times: at full size each run reads every posting. */
const naive_repeats = 2;

export interface ReportBenchResult {
  scenario: "report";
  backend: string;
  postings: number;
  generate_seconds: number;
  aggregate_seconds: number;
  aggregate_rows: number;
  statement_ms: number;
  naive_ms: number;
  speedup: number;
  problems: string[];
}

export async function runReportBench(
  ctx: ServiceContext,
  backend: string,
  postings_asked: number,
  log: (text: string) => void,
): Promise<ReportBenchResult> {
  const transactions = Math.max(1, Math.round(postings_asked / postings_per_transaction));
  const postings = transactions * postings_per_transaction;
  const tenant_id = `bench-report-${newId().replaceAll("-", "").slice(-12)}`;
  await ensureTenant(ctx, { id: tenant_id, name: "bench report" });
  await createParty(ctx, tenant_id, { id: "psp", kind: "psp", name: "PSP" });
  await createParty(ctx, tenant_id, { id: "m-big", kind: "merchant", name: "Busy merchant" });
  const account = await openAccount(ctx, tenant_id, {
    party_id: "m-big",
    purpose: "available",
    currency: "CNY",
  });
  const clearing = await openAccount(ctx, tenant_id, {
    party_id: "psp",
    purpose: "clearing",
    currency: "CNY",
  });
  const start_ms = Date.UTC(2023, 0, 1);
  const step_ms = Math.floor((history_days * day_ms) / transactions);
  let started = performance.now();
  for (let first = 0; first < transactions; first += generate_chunk_transactions) {
    const count = Math.min(generate_chunk_transactions, transactions - first);
    await generateChunk(ctx, tenant_id, account.id, clearing.id, first, count, start_ms, step_ms);
    log(`report: generated ${((first + count) * postings_per_transaction).toLocaleString("en")} postings\r`);
  }
  const generate_seconds = (performance.now() - started) / 1000;
  log("\n");
  if (ctx.db.backend === "postgres") await ctx.db.query("ANALYZE postings");
  started = performance.now();
  const aggregate_rows = await inTransaction(ctx.db, (tx) =>
    rebuildAccountDaily(tx, tenant_id, [account.id, clearing.id]),
  );
  const aggregate_seconds = (performance.now() - started) / 1000;
  // A month in the middle of the history.
  const middle = new Date(start_ms + Math.floor(history_days / 2) * day_ms);
  const from = new Date(Date.UTC(middle.getUTCFullYear(), middle.getUTCMonth(), 1));
  const to = new Date(Date.UTC(middle.getUTCFullYear(), middle.getUTCMonth() + 1, 1));
  const period = parsePeriod(from.toISOString(), to.toISOString(), statement_days_max);
  const scope = { tenant_id, party_id: null };
  const problems: string[] = [];
  let statement_ms = Number.POSITIVE_INFINITY;
  let naive_ms = Number.POSITIVE_INFINITY;
  let statement = await partyStatement(ctx.db, scope, { party_id: "m-big", period }, ctx.now());
  let naive = { opening_minor: -1n, closing_minor: -1n };
  for (let round = 0; round < repeats; round++) {
    let t = performance.now();
    statement = await partyStatement(ctx.db, scope, { party_id: "m-big", period }, ctx.now());
    statement_ms = Math.min(statement_ms, performance.now() - t);
    if (round >= naive_repeats) continue;
    t = performance.now();
    naive = await naiveStatement(ctx, tenant_id, account.id, from, to);
    naive_ms = Math.min(naive_ms, performance.now() - t);
  }
  const available = statement.buckets.find((bucket) => bucket.bucket === "available")!;
  if (available.opening_minor !== naive.opening_minor || available.closing_minor !== naive.closing_minor)
    problems.push(
      `report: the statement (${available.opening_minor} → ${available.closing_minor}) differs from the naive sums (${naive.opening_minor} → ${naive.closing_minor})`,
    );
  const speedup = naive_ms / statement_ms;
  if (postings >= report_postings_full) {
    if (statement_ms >= 1000)
      problems.push(`report: the monthly statement took ${statement_ms.toFixed(1)} ms (target < 1000)`);
    if (speedup < 50)
      problems.push(`report: only ${speedup.toFixed(1)}x faster than the naive SUM (target >= 50x)`);
  }
  return {
    scenario: "report",
    backend,
    postings,
    generate_seconds: Math.round(generate_seconds * 10) / 10,
    aggregate_seconds: Math.round(aggregate_seconds * 100) / 100,
    aggregate_rows,
    statement_ms: Math.round(statement_ms * 100) / 100,
    naive_ms: Math.round(naive_ms * 100) / 100,
    speedup: Math.round(speedup * 10) / 10,
    problems,
  };
}

async function generateChunk(
  ctx: ServiceContext,
  tenant_id: string,
  account_id: string,
  clearing_id: string,
  first: number,
  count: number,
  start_ms: number,
  step_ms: number,
): Promise<void> {
  // Ids ascend (a UUIDv7-shaped prefix of this run, then the number), so the
  // indexes grow at their right edge as they do under real booking.
  const id_prefix = `${newId().slice(0, 24)}`;
  // Each transaction: 100 credits to the account (1 to 5,000 minor units, a
  // fixed pattern), one debit of their sum from clearing, all at one instant.
  await ctx.db.query(
    `WITH t AS (
       SELECT n, ($8::text || lpad(to_hex(n), 12, '0'))::uuid AS id,
              to_timestamp(($5::float8 + n::float8 * $6::float8) / 1000) AS at,
              CASE WHEN n % 7 = 0 THEN 'release' WHEN n % 11 = 0 THEN 'refund_reversal' ELSE 'split' END AS kind
         FROM generate_series($3::int8, $3::int8 + $4::int8 - 1) AS n),
     j AS (
       INSERT INTO journal_transactions (tenant_id, id, kind, idempotency_key, content_hash, effective_at, recorded_at)
       SELECT $1, id, kind, 'bench-report-' || n, '', at, at FROM t RETURNING 1),
     p AS (
       INSERT INTO postings (tenant_id, transaction_id, seq, account_id, amount_minor, currency, effective_at)
       SELECT $1, t.id, s, $2::uuid, 1 + ((t.n * 7919 + s * 104729) % 5000), 'CNY', t.at
         FROM t, generate_series(1, ${postings_per_transaction}) AS s
       UNION ALL
       SELECT $1, t.id, 0, $7::uuid,
              -(SELECT sum(1 + ((t.n * 7919 + s * 104729) % 5000)) FROM generate_series(1, ${postings_per_transaction}) AS s)::int8,
              'CNY', t.at
         FROM t
       RETURNING 1)
     SELECT (SELECT count(*) FROM j) AS j, (SELECT count(*) FROM p) AS p`,
    [tenant_id, account_id, first, count, start_ms, step_ms, clearing_id, id_prefix],
  );
}

/** What a statement costs without aggregates: Σ of every posting of the account up to the period's end. */
async function naiveStatement(
  ctx: ServiceContext,
  tenant_id: string,
  account_id: string,
  from: Date,
  to: Date,
): Promise<{ opening_minor: bigint; closing_minor: bigint }> {
  const rows = await ctx.db.query<{ kind: string; before: string | null; within: string | null }>(
    `SELECT j.kind, sum(p.amount_minor) FILTER (WHERE p.effective_at < $3)::text AS before,
            sum(p.amount_minor) FILTER (WHERE p.effective_at >= $3)::text AS within
       FROM postings p JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE p.tenant_id = $1 AND p.account_id = $2 AND p.effective_at < $4
      GROUP BY j.kind`,
    [tenant_id, account_id, from, to],
  );
  let opening = 0n;
  let within = 0n;
  for (const row of rows) {
    opening += BigInt(row.before ?? "0");
    within += BigInt(row.within ?? "0");
  }
  return { opening_minor: opening, closing_minor: opening + within };
}
