import {
  type LedgerItem,
  type ReconciliationStatus,
  reconciliation_statuses,
} from "../../core/reconcile/match.ts";
import type { BillRow } from "../../core/reconcile/types.ts";
import type { Queryable } from "../../store/database.ts";

// SQL for reconciliation (migration 040): the ledger lookups for a batch of
// bill rows, the items, and the passes over them (duplicates, missing in bill).

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
}

interface OrderLookup extends Record<string, unknown> {
  id: string;
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
  const order_select = `SELECT id, currency::text AS currency, paid_minor, facts->'psp'->>'reference' AS psp_reference,
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
    // Provider reference first, then our order id.
    const order =
      (row.payment_reference === null ? undefined : by_reference.get(row.payment_reference)) ??
      (row.order_id === null ? undefined : orders.get(row.order_id));
    if (order === undefined) return undefined;
    if (row.kind === "payment")
      return {
        kind: "payment",
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

export async function insertItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  items: readonly ItemRow[],
): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `INSERT INTO reconciliation_items (tenant_id, import_id, seq, status, bill_line, kind, provider_reference, order_id,
       refund_id, payout_id, currency, bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor)
     SELECT $1, $2, i.seq, i.status, i.bill_line, i.kind, i.provider_reference, i.order_id, i.refund_id, i.payout_id,
            i.currency, i.bill_amount, i.ledger_amount_minor, i.bill_fee, i.ledger_fee_minor
       FROM unnest($3::int4[], $4::text[], $5::int4[], $6::text[], $7::text[], $8::text[], $9::text[], $10::uuid[],
                   $11::text[], $12::text[], $13::int8[], $14::text[], $15::int8[])
         AS i(seq, status, bill_line, kind, provider_reference, order_id, refund_id, payout_id, currency, bill_amount,
              ledger_amount_minor, bill_fee, ledger_fee_minor)`,
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
       FROM (SELECT seq, row_number() OVER (PARTITION BY kind, provider_reference ORDER BY seq) AS by_reference,
                    CASE WHEN status <> 'missing_in_ledger' AND order_id IS NOT NULL
                         THEN row_number() OVER (PARTITION BY kind, order_id, refund_id, (status <> 'missing_in_ledger') ORDER BY seq) END AS by_item
               FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2) d
      WHERE r.tenant_id = $1 AND r.import_id = $2 AND r.seq = d.seq
        AND ((d.by_reference > 1 AND r.provider_reference IS NOT NULL) OR d.by_item > 1)`,
    [tenant_id, import_id],
  );
}

/** Orders paid through this provider within the bill's days that no bill row matched. */
export async function markMissingInBill(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  psp: string,
  period: { min: string; max: string },
  offset: string,
  first_seq: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO reconciliation_items (tenant_id, import_id, seq, status, kind, provider_reference, order_id, currency, ledger_amount_minor)
     SELECT $1, $2, $6 + (row_number() OVER (ORDER BY o.paid_at, o.id))::int - 1, 'missing_in_bill', 'payment',
            o.facts->'psp'->>'reference', o.id, o.currency, o.paid_minor
       FROM orders o
      WHERE o.tenant_id = $1 AND o.facts->'psp'->>'provider' = $3
        AND o.paid_at >= ($4 || 'T00:00:00' || $7)::timestamptz AND o.paid_at < ($5 || 'T00:00:00' || $7)::timestamptz + interval '1 day'
        AND NOT EXISTS (SELECT 1 FROM reconciliation_items r WHERE r.tenant_id = $1 AND r.import_id = $2
                           AND r.kind = 'payment' AND r.order_id = o.id)`,
    [tenant_id, import_id, psp, period.min, period.max, first_seq, offset],
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
