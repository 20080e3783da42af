import {
  type LedgerItem,
  type PayoutCandidate,
  type ReconciliationStatus,
  reconciliation_statuses,
} from "../core/reconcile/match.ts";
import type { ResultItem } from "../core/reconcile/result-file.ts";
import type { BillRow } from "../core/reconcile/types.ts";
import type { Queryable } from "./database.ts";

// The one home of the reconciliation tables' queries (bill_imports and
// reconciliation_items, decisions §29): first the reads the HTTP routes answer
// from (run them under the caller's read scope), then the import's own.

export interface BillImportRow {
  id: string;
  provider: string;
  file_sha256: string;
  /** The stored `{ report, counts }`: jsonb, or its text on a driver that does not parse it. */
  report: unknown;
  created_at: Date;
}

/** One bill import by id; undefined when the tenant has none with that id. */
export async function selectBillImport(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
): Promise<BillImportRow | undefined> {
  const [row] = await tx.query<BillImportRow & Record<string, unknown>>(
    "SELECT id::text, provider, file_sha256, report, created_at FROM bill_imports WHERE tenant_id = $1 AND id = $2",
    [tenant_id, import_id],
  );
  return row;
}

/** An import's items in bill order: of one status, or every exception (not `matched`) when `status` is null. */
export async function selectReconciliationItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  options: { status: string | null; limit: number },
): Promise<Record<string, unknown>[]> {
  return tx.query(
    `SELECT seq, status, bill_line, kind, provider_reference, order_id, refund_id, payout_id::text, currency::text AS currency,
            bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor
       FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2
        AND (CASE WHEN $3::text IS NULL THEN status <> 'matched' ELSE status = $3 END)
      ORDER BY seq LIMIT $4`,
    [tenant_id, import_id, options.status, options.limit],
  );
}

/** Every item of an import for its result file, in bill order, at most `limit` rows. */
export async function selectResultItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  limit: number,
): Promise<ResultItem[]> {
  const items = await tx.query<ResultItem & Record<string, unknown>>(
    `SELECT seq, status, kind, bill_line, provider_reference, order_id, refund_id, payout_id::text, currency::text AS currency,
            bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor, match_group, reason
       FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2 ORDER BY seq LIMIT $3`,
    [tenant_id, import_id, limit],
  );
  return items.map((item) => ({
    ...item,
    seq: Number(item.seq),
    bill_line: item.bill_line === null ? null : Number(item.bill_line),
    ledger_amount_minor: item.ledger_amount_minor === null ? null : BigInt(item.ledger_amount_minor),
    ledger_fee_minor: item.ledger_fee_minor === null ? null : BigInt(item.ledger_fee_minor),
  }));
}

// The import's SQL (migration 040): the ledger lookups for a batch of bill rows,
// the items, and the passes over them (duplicates, missing in bill).

export interface ItemRow {
  seq: number;
  status: ReconciliationStatus;
  bill_line: number | null;
  kind: string;
  provider_reference: string | null;
  order_id: string | null;
  refund_id: string | null;
  payout_id: string | null;
  currency: string | null;
  bill_amount: string | null;
  ledger_amount_minor: bigint | null;
  bill_fee: string | null;
  ledger_fee_minor: bigint | null;
  match_group?: string | null;
  reason?: string | null;
}

interface OrderLookup extends Record<string, unknown> {
  id: string;
  paid_at: Date;
  currency: string;
  paid_minor: bigint;
  psp_reference: string | null;
  fee_minor: string | null;
}

/** Reads every ledger item the batch could match, and returns the finder for one row. */
export async function lookupLedger(
  tx: Queryable,
  tenant_id: string,
  rows: readonly BillRow[],
): Promise<(row: BillRow) => LedgerItem | undefined> {
  const order_ids = [...new Set(rows.flatMap((row) => (row.order_id === null ? [] : [row.order_id])))];
  const orders = new Map<string, OrderLookup>();
  const by_reference = new Map<string, OrderLookup>();
  const order_select = `SELECT id, currency::text AS currency, paid_minor, paid_at, facts->'psp'->>'reference' AS psp_reference,
                               facts->'psp'->>'fee_minor' AS fee_minor FROM orders`;
  if (order_ids.length > 0)
    for (const order of await tx.query<OrderLookup>(
      `${order_select} WHERE tenant_id = $1 AND id = ANY($2::text[])`,
      [tenant_id, order_ids],
    ))
      orders.set(order.id, order);
  // Rows without a known order id are looked up by the provider's payment reference.
  const references = [
    ...new Set(
      rows.flatMap((row) =>
        row.kind !== "payout" && row.order_id === null && row.payment_reference !== null
          ? [row.payment_reference]
          : [],
      ),
    ),
  ];
  if (references.length > 0)
    for (const order of await tx.query<OrderLookup>(
      `${order_select} WHERE tenant_id = $1 AND facts->'psp'->>'reference' = ANY($2::text[])`,
      [tenant_id, references],
    )) {
      orders.set(order.id, order);
      if (order.psp_reference !== null) by_reference.set(order.psp_reference, order);
    }
  for (const order of orders.values())
    if (order.psp_reference !== null) by_reference.set(order.psp_reference, order);
  const refunds = await tx.query<
    { order_id: string; refund_id: string; kind: string; amount_minor: bigint } & Record<string, unknown>
  >(
    "SELECT order_id, refund_id, kind, amount_minor FROM order_refunds WHERE tenant_id = $1 AND order_id = ANY($2::text[])",
    [tenant_id, [...orders.keys()]],
  );
  const payout_refs = [
    ...new Set(
      rows.flatMap((row) =>
        row.kind === "payout"
          ? [row.provider_reference, row.payment_reference].filter((ref): ref is string => ref !== null)
          : [],
      ),
    ),
  ];
  const payouts =
    payout_refs.length === 0
      ? []
      : await tx.query<
          { id: string; reference: string; currency: string; amount_minor: bigint } & Record<string, unknown>
        >(
          "SELECT id::text, reference, currency::text AS currency, amount_minor FROM payouts WHERE tenant_id = $1 AND reference = ANY($2::text[])",
          [tenant_id, payout_refs],
        );
  return (row) => {
    if (row.kind === "payout") {
      const payout = payouts.find(
        (candidate) =>
          candidate.reference === row.provider_reference || candidate.reference === row.payment_reference,
      );
      return payout === undefined
        ? undefined
        : {
            kind: "payout",
            order_id: null,
            refund_id: null,
            payout_id: payout.id,
            currency: payout.currency,
            amount_minor: BigInt(payout.amount_minor),
            fee_minor: null,
          };
    }
    // Provider reference first, then our order id (which must also agree on the date: decideRow).
    const by_provider = row.payment_reference === null ? undefined : by_reference.get(row.payment_reference);
    const order = by_provider ?? (row.order_id === null ? undefined : orders.get(row.order_id));
    if (order === undefined) return undefined;
    if (row.kind === "payment")
      return {
        kind: "payment",
        matched_by: by_provider === undefined ? "order_id" : "reference",
        at_ms: new Date(order.paid_at).getTime(),
        order_id: order.id,
        refund_id: null,
        payout_id: null,
        currency: order.currency,
        amount_minor: BigInt(order.paid_minor),
        fee_minor:
          order.fee_minor === null || !/^-?\d+$/.test(order.fee_minor) ? null : BigInt(order.fee_minor),
      };
    const kind = row.kind === "chargeback" ? "chargeback" : "refund";
    const candidates = refunds.filter((refund) => refund.order_id === order.id && refund.kind === kind);
    const refund =
      candidates.find((candidate) => candidate.refund_id === row.refund_id) ??
      (candidates.length === 1 ? candidates[0] : undefined);
    return refund === undefined
      ? undefined
      : {
          kind,
          order_id: order.id,
          refund_id: refund.refund_id,
          payout_id: null,
          currency: order.currency,
          amount_minor: BigInt(refund.amount_minor),
          fee_minor: null,
        };
  };
}

/** Our payouts a batch of payout rows may name: by payout reference, and by settlement run id. */
export async function lookupPayouts(
  tx: Queryable,
  tenant_id: string,
  rows: readonly BillRow[],
): Promise<{ by_reference: Map<string, PayoutCandidate>; by_run: Map<string, PayoutCandidate[]> }> {
  const references = [
    ...new Set(
      rows.flatMap((row) =>
        [row.provider_reference, row.payment_reference].filter((ref): ref is string => ref !== null),
      ),
    ),
  ];
  const run_ids = references.filter((ref) => uuid.test(ref));
  const by_reference = new Map<string, PayoutCandidate>();
  const by_run = new Map<string, PayoutCandidate[]>();
  if (references.length === 0) return { by_reference, by_run };
  const found = await tx.query<
    { id: string; reference: string; run_id: string; currency: string; amount_minor: bigint } & Record<
      string,
      unknown
    >
  >(
    `SELECT id::text, reference, run_id::text, currency::text AS currency, amount_minor FROM payouts
      WHERE tenant_id = $1 AND state IN ('in_transit', 'paid_out')
        AND (reference = ANY($2::text[]) OR run_id = ANY($3::uuid[]))
      ORDER BY reference`,
    [tenant_id, references, run_ids],
  );
  for (const payout of found) {
    const candidate = { ...payout, amount_minor: BigInt(payout.amount_minor) };
    if (references.includes(payout.reference)) by_reference.set(payout.reference, candidate);
    if (run_ids.includes(payout.run_id))
      by_run.set(payout.run_id, [...(by_run.get(payout.run_id) ?? []), candidate]);
  }
  return { by_reference, by_run };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  items: readonly ItemRow[],
): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `INSERT INTO reconciliation_items (tenant_id, import_id, seq, status, bill_line, kind, provider_reference, order_id,
       refund_id, payout_id, currency, bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor, match_group, reason)
     SELECT $1, $2, i.seq, i.status, i.bill_line, i.kind, i.provider_reference, i.order_id, i.refund_id, i.payout_id,
            i.currency, i.bill_amount, i.ledger_amount_minor, i.bill_fee, i.ledger_fee_minor, i.match_group, i.reason
       FROM unnest($3::int4[], $4::text[], $5::int4[], $6::text[], $7::text[], $8::text[], $9::text[], $10::uuid[],
                   $11::text[], $12::text[], $13::int8[], $14::text[], $15::int8[], $16::text[], $17::text[])
         AS i(seq, status, bill_line, kind, provider_reference, order_id, refund_id, payout_id, currency, bill_amount,
              ledger_amount_minor, bill_fee, ledger_fee_minor, match_group, reason)`,
    [
      tenant_id,
      import_id,
      items.map((item) => item.seq),
      items.map((item) => item.status),
      items.map((item) => item.bill_line),
      items.map((item) => item.kind),
      items.map((item) => item.provider_reference),
      items.map((item) => item.order_id),
      items.map((item) => item.refund_id),
      items.map((item) => item.payout_id),
      items.map((item) => item.currency),
      items.map((item) => item.bill_amount),
      items.map((item) => item.ledger_amount_minor?.toString() ?? null),
      items.map((item) => item.bill_fee),
      items.map((item) => item.ledger_fee_minor?.toString() ?? null),
      items.map((item) => item.match_group ?? null),
      items.map((item) => item.reason?.slice(0, 500) ?? null),
    ],
  );
}

/**
 * A second bill row for the same provider movement, or for a ledger item an
 * earlier row already took, is a duplicate.
 */
export async function markDuplicates(tx: Queryable, tenant_id: string, import_id: string): Promise<void> {
  await tx.query(
    `UPDATE reconciliation_items r SET status = 'duplicate'
       FROM (SELECT seq, dense_rank() OVER (PARTITION BY kind, provider_reference ORDER BY bill_line) AS by_reference,
                    CASE WHEN status <> 'missing_in_ledger' AND order_id IS NOT NULL
                         THEN row_number() OVER (PARTITION BY kind, order_id, refund_id, (status <> 'missing_in_ledger') ORDER BY seq) END AS by_item
               FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2) d
      WHERE r.tenant_id = $1 AND r.import_id = $2 AND r.seq = d.seq AND r.kind <> 'payout'
        AND ((d.by_reference > 1 AND r.provider_reference IS NOT NULL) OR d.by_item > 1)`,
    [tenant_id, import_id],
  );
}

/**
 * Orders paid, and refunds and chargebacks made, through this provider in the
 * bill's window that no bill row claimed, in this import or any earlier one.
 * The window is the bill's days shifted back by the date tolerance: an item
 * just before the last midnight may sit in the next day's bill and is judged
 * by that one, while the previous day's late items are judged by this one.
 */
export async function markMissingInBill(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  psp: string,
  window: { from: Date; to: Date },
  first_seq: number,
): Promise<void> {
  const unclaimed = (kinds: string, order: string, refund: string) => `NOT EXISTS (
        SELECT 1 FROM reconciliation_items r WHERE r.tenant_id = $1 AND r.order_id = ${order} AND r.kind IN (${kinds})
           AND r.bill_line IS NOT NULL AND r.status <> 'missing_in_ledger' ${refund})`;
  await tx.query(
    `INSERT INTO reconciliation_items (tenant_id, import_id, seq, status, kind, provider_reference, order_id, refund_id,
                                       currency, ledger_amount_minor, reason)
     SELECT $1, $2, $6 + (row_number() OVER (ORDER BY m.at, m.kind, m.order_id, m.refund_id))::int - 1, 'missing_in_bill',
            m.kind, m.provider_reference, m.order_id, m.refund_id, m.currency, m.amount_minor, m.reason
       FROM (SELECT o.paid_at AS at, 'payment' AS kind, o.facts->'psp'->>'reference' AS provider_reference, o.id AS order_id,
                    NULL::text AS refund_id, o.currency::text AS currency, o.paid_minor AS amount_minor,
                    'paid through ' || $3 || ' at ' || to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ', in no bill' AS reason
               FROM orders o
              WHERE o.tenant_id = $1 AND o.facts->'psp'->>'provider' = $3 AND o.paid_at >= $4 AND o.paid_at < $5
                AND ${unclaimed("'payment'", "o.id", "")}
             UNION ALL
             SELECT f.created_at, f.kind, o.facts->'psp'->>'reference', o.id, f.refund_id, o.currency::text, f.amount_minor,
                    f.kind || ' ' || f.refund_id || ' booked at ' || to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ', in no bill'
               FROM order_refunds f JOIN orders o ON o.tenant_id = f.tenant_id AND o.id = f.order_id
              WHERE f.tenant_id = $1 AND o.facts->'psp'->>'provider' = $3 AND f.created_at >= $4 AND f.created_at < $5
                AND ${unclaimed("'refund', 'chargeback'", "o.id", "AND r.kind = f.kind AND r.refund_id = f.refund_id")}) m`,
    [tenant_id, import_id, psp, window.from, window.to, first_seq],
  );
}

export async function statusCounts(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
): Promise<Record<ReconciliationStatus, number>> {
  const rows = await tx.query<{ status: ReconciliationStatus; n: bigint } & Record<string, unknown>>(
    "SELECT status, count(*)::int8 AS n FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2 GROUP BY status",
    [tenant_id, import_id],
  );
  const counts = Object.fromEntries(reconciliation_statuses.map((status) => [status, 0])) as Record<
    ReconciliationStatus,
    number
  >;
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

export interface StoredImportRow {
  id: string;
  provider: string;
  report: unknown;
}

/** The import of the file with this SHA-256, if the tenant has one: a replay answers it. */
export async function selectBillImportBySha(
  tx: Queryable,
  tenant_id: string,
  file_sha256: string,
): Promise<StoredImportRow | undefined> {
  const [row] = await tx.query<StoredImportRow & Record<string, unknown>>(
    "SELECT id::text, provider, report FROM bill_imports WHERE tenant_id = $1 AND file_sha256 = $2",
    [tenant_id, file_sha256],
  );
  return row;
}

export async function insertBillImport(
  tx: Queryable,
  tenant_id: string,
  bill: {
    id: string;
    provider: string;
    file_sha256: string;
    encoding: string;
    rows_total: number;
    rows_parsed: number;
    /** The `{ report, counts }` stored as jsonb. */
    report_json: string;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO bill_imports (tenant_id, id, provider, file_sha256, encoding, rows_total, rows_parsed, report, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)`,
    [
      tenant_id,
      bill.id,
      bill.provider,
      bill.file_sha256,
      bill.encoding,
      bill.rows_total,
      bill.rows_parsed,
      bill.report_json,
      now,
    ],
  );
}

export interface ExceptionItemRow {
  seq: number;
  status: string;
  order_id: string;
  provider_reference: string | null;
  bill_line: number | null;
  currency: string;
  paid_minor: bigint;
  ledger_amount_minor: bigint | null;
}

/** An import's items that are not matched and name an order the ledger has, in item order; `limit` rows. */
export function selectExceptionItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  limit: number,
): Promise<ExceptionItemRow[]> {
  return tx.query<ExceptionItemRow & Record<string, unknown>>(
    `SELECT r.seq, r.status, r.order_id, r.provider_reference, r.bill_line, o.currency::text AS currency, o.paid_minor,
            r.ledger_amount_minor
       FROM reconciliation_items r JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
      WHERE r.tenant_id = $1 AND r.import_id = $2 AND r.status <> 'matched' ORDER BY r.seq LIMIT $3`,
    [tenant_id, import_id, limit],
  );
}

/** Bill imports by id with their stored `{ report, counts }`, as their log records need them. */
export function selectBillImportsById(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<{ id: string; report: unknown; created_at: Date }[]> {
  return tx.query<{ id: string; report: unknown; created_at: Date } & Record<string, unknown>>(
    "SELECT id::text, report, created_at FROM bill_imports WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
    [tenant_id, ids],
  );
}
