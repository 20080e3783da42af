import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import {
  date_tolerance_ms_default,
  date_tolerance_ms_max,
  exceptions_raised_max,
  match_batch_rows,
  payout_rows_max,
} from "../../core/limits.ts";
import { billInstantMs } from "../../core/reconcile/bill-time.ts";
import {
  decideRow,
  exactText,
  type LedgerItem,
  type MatchTolerance,
  matchPayouts,
  type ReconciliationStatus,
} from "../../core/reconcile/match.ts";
import type { BillReport } from "../../core/reconcile/parse-report.ts";
import { type BillProvider, type BillRow, bill_providers } from "../../core/reconcile/types.ts";
import { transactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type ItemRow,
  insertBillImport,
  insertItems,
  lookupLedger,
  lookupPayouts,
  markDuplicates,
  markMissingInBill,
  selectBillImportBySha,
  selectExceptionItems,
  statusCounts,
} from "../../store/reconciliation-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { writeSteps } from "../../store/write-set.ts";
import type { ServiceContext } from "../context.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { raiseReconciliationException } from "../settlement/audit-hooks.ts";
import { logRecordsWrite } from "../tlog/record-enqueue.ts";
import { readBill } from "./read-bill.ts";
import { reconciliationRecord } from "./reconciliation-record.ts";

const import_lock_class = 7_016;

export interface ImportOptions {
  provider: string;
  path: string;
  mapping?: string | undefined;
  tolerance_minor?: bigint | undefined;
  /** How far a bill's time may be from the ledger's (midnight, time zones); default 2 hours. */
  date_tolerance_ms?: number | undefined;
  on_progress?: ((bytes_read: number, bytes_total: number) => void) | undefined;
}

export interface ImportResult {
  import_id: string;
  replayed: boolean;
  report: BillReport;
  counts: Record<ReconciliationStatus, number>;
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    throw new DomainError("bill_unusable", `cannot read ${path}`, "file");
  }
  return hash.digest("hex");
}

/**
 * Imports a bill and reconciles it, in one database transaction: every row is
 * matched to the ledger (provider reference, then order id), items the bill
 * should have and has not are found, and the result is stored, logged and
 * announced. The same file again (same SHA-256) is a replay that changes nothing.
 */
export async function importBill(
  ctx: ServiceContext,
  tenant_id: string,
  options: ImportOptions,
): Promise<ImportResult> {
  const date_tolerance_ms = options.date_tolerance_ms ?? date_tolerance_ms_default;
  if (
    !Number.isSafeInteger(date_tolerance_ms) ||
    date_tolerance_ms < 0 ||
    date_tolerance_ms > date_tolerance_ms_max
  )
    throw new DomainError(
      "date_tolerance_invalid",
      `date_tolerance_ms must be a whole number from 0 to ${date_tolerance_ms_max}`,
      "date_tolerance_ms",
    );
  const provider: BillProvider | undefined = bill_providers.find((name) => name === options.provider);
  const sha = await fileSha256(options.path);
  const tolerance: MatchTolerance = {
    amount_minor: options.tolerance_minor ?? 0n,
    date_ms: date_tolerance_ms,
  };
  return inTransaction(ctx.db, async (tx) => {
    await transactionLock(tx, import_lock_class, `${tenant_id}/${sha}`);
    const existing = await selectBillImportBySha(tx, tenant_id, sha);
    if (existing !== undefined && existing.provider !== options.provider)
      throw new DomainError(
        "bill_provider_conflict",
        `this file (SHA-256 ${sha}) was already imported as a ${existing.provider} bill`,
        "provider",
        { import_id: existing.id },
      );
    if (existing !== undefined) {
      const stored = (
        typeof existing.report === "string" ? JSON.parse(existing.report) : existing.report
      ) as {
        report: BillReport;
        counts: ImportResult["counts"];
      };
      return { import_id: existing.id, replayed: true, report: stored.report, counts: stored.counts };
    }
    const import_id = newId();
    const now = ctx.now();
    let batch: BillRow[] = [];
    const payout_rows: BillRow[] = [];
    let seq = 0;
    const period = { min: "", max: "" };
    const flush = async () => {
      if (batch.length === 0) return;
      const items = await matchBatch(tx, tenant_id, batch, tolerance, provider ?? "generic");
      await insertItems(
        tx,
        tenant_id,
        import_id,
        items.map((item) => ({ ...item, seq: seq++ })),
      );
      batch = [];
    };
    const report = await readBill(options.path, {
      provider: options.provider,
      mapping: options.mapping,
      on_progress: options.on_progress,
      on_row: async (row) => {
        const day = row.occurred_at?.slice(0, 10) ?? "";
        if (/^\d{4}-\d{2}-\d{2}$/.test(day)) {
          if (period.min === "" || day < period.min) period.min = day;
          if (day > period.max) period.max = day;
        }
        if (!["payment", "refund", "chargeback", "payout"].includes(row.kind)) return;
        // Payout rows are matched together at the end: several rows may pay one payout, one row a whole run.
        if (row.kind === "payout" && payout_rows.length < payout_rows_max) {
          payout_rows.push(row);
          return;
        }
        batch.push(row);
        if (batch.length >= match_batch_rows) await flush();
      },
    });
    if (report.file_sha256 !== sha)
      throw new DomainError("bill_unusable", "the file changed while it was read", "file");
    await flush();
    const payout_items = await matchPayoutRows(tx, tenant_id, payout_rows, tolerance.amount_minor);
    await insertItems(
      tx,
      tenant_id,
      import_id,
      payout_items.map((item) => ({ ...item, seq: seq++ })),
    );
    await markDuplicates(tx, tenant_id, import_id);
    const psp = { wechat: "wechat", alipay: "alipay", stripe: "stripe", adyen: "adyen" }[options.provider];
    if (psp !== undefined && provider !== undefined && period.min !== "")
      await markMissingInBill(
        tx,
        tenant_id,
        import_id,
        psp,
        billWindow(period, provider, date_tolerance_ms),
        seq,
      );
    const counts = await statusCounts(tx, tenant_id, import_id);
    await insertBillImport(
      tx,
      tenant_id,
      {
        id: import_id,
        provider: report.provider,
        file_sha256: sha,
        encoding: report.encoding,
        rows_total: report.rows_total,
        rows_parsed: report.rows_parsed,
        report_json: JSON.stringify({ report, counts }),
      },
      now,
    );
    const record = reconciliationRecord({ id: import_id, created_at: now, report, counts });
    const exceptions = Object.entries(counts).filter(([status, count]) => status !== "matched" && count > 0);
    await writeSteps(tx, [
      logRecordsWrite(tenant_id, [{ id: import_id, kind: "reconciliation", record, party_ids: [] }], now),
      eventsWrite(
        tenant_id,
        exceptions.length === 0
          ? []
          : [
              {
                type: "reconciliation.exception",
                party_ids: [],
                payload: {
                  import_id,
                  provider: report.provider,
                  file_sha256: sha,
                  exceptions: exceptions.reduce((sum, [, count]) => sum + count, 0),
                  counts,
                },
              },
            ],
        now,
      ),
    ]);
    await raiseExceptions(tx, tenant_id, import_id, now);
    return { import_id, replayed: false, report, counts };
  });
}

/** Each exception on an order the ledger has opens (or joins) an audit case; the first 1,000 per import. */
async function raiseExceptions(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  now: Date,
): Promise<void> {
  const rows = await selectExceptionItems(tx, tenant_id, import_id, exceptions_raised_max);
  for (const row of rows)
    await raiseReconciliationException(
      tx,
      tenant_id,
      {
        import_id,
        seq: Number(row.seq),
        status: row.status,
        order_id: row.order_id,
        provider_reference: row.provider_reference,
        amount_minor: BigInt(row.ledger_amount_minor ?? row.paid_minor),
        currency: row.currency,
        detail: row.bill_line === null ? "in the ledger, not in the bill" : `bill line ${row.bill_line}`,
      },
      now,
    );
}

async function matchBatch(
  tx: Queryable,
  tenant_id: string,
  rows: readonly BillRow[],
  tolerance: MatchTolerance,
  provider: BillProvider,
): Promise<Omit<ItemRow, "seq">[]> {
  const ledger = await lookupLedger(tx, tenant_id, rows);
  return rows.map((row) => {
    const item: LedgerItem | undefined = ledger(row);
    const { status, reason } = decideRow(row, item, tolerance, billInstantMs(row.occurred_at, provider));
    const claimed = status !== "missing_in_ledger" ? item : undefined;
    return {
      status,
      reason,
      bill_line: row.line,
      kind: row.kind,
      provider_reference: row.provider_reference,
      order_id: claimed?.order_id ?? row.order_id,
      refund_id: claimed?.refund_id ?? row.refund_id,
      payout_id: claimed?.payout_id ?? null,
      currency: row.currency,
      bill_amount: exactText(row.amount, row.currency),
      ledger_amount_minor: claimed?.amount_minor ?? null,
      bill_fee: exactText(row.fee, row.currency),
      ledger_fee_minor: claimed?.fee_minor ?? null,
    };
  });
}

async function matchPayoutRows(
  tx: Queryable,
  tenant_id: string,
  rows: readonly BillRow[],
  tolerance_minor: bigint,
): Promise<Omit<ItemRow, "seq">[]> {
  if (rows.length === 0) return [];
  const { by_reference, by_run } = await lookupPayouts(tx, tenant_id, rows);
  return matchPayouts(rows, by_reference, by_run, tolerance_minor).map(
    ({ status, reason, match_group, row, payout }) => ({
      status,
      reason,
      match_group,
      bill_line: row?.line ?? null,
      kind: "payout",
      provider_reference: row?.provider_reference ?? null,
      order_id: null,
      refund_id: null,
      payout_id: payout?.id ?? null,
      currency: row?.currency ?? payout?.currency ?? null,
      bill_amount: row === null ? null : exactText(row.amount, row.currency),
      ledger_amount_minor: payout?.amount_minor ?? null,
      bill_fee: row === null ? null : exactText(row.fee, row.currency),
      ledger_fee_minor: null,
    }),
  );
}

/** The bill's days, in the provider's zone, shifted back by the date tolerance. */
function billWindow(
  period: { min: string; max: string },
  provider: BillProvider,
  date_tolerance_ms: number,
): { from: Date; to: Date } {
  const start_ms = billInstantMs(`${period.min} 00:00:00`, provider);
  const last_ms = billInstantMs(`${period.max} 00:00:00`, provider);
  assert(start_ms !== null && last_ms !== null, "the bill's days are dates");
  return {
    from: new Date(start_ms - date_tolerance_ms),
    to: new Date(last_ms + 86_400_000 - date_tolerance_ms),
  };
}
