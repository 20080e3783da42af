import type { Queryable } from "./database.ts";

// Aggregates for the platform dashboard, straight from the system of record:
// orders and their facts (GMV, categories, subsidies), refunds, the platform's
// split legs in the journal (commission) and balances by purpose. Sums come
// back as text so no adapter ever turns them into a float.

export interface DayRow {
  currency: string;
  day: string;
  orders: string;
  gmv_minor: string;
}
export interface RefundDayRow {
  currency: string;
  day: string;
  kind: "refund" | "chargeback";
  count: string;
  amount_minor: string;
}
export interface CategoryRow {
  currency: string;
  category: string;
  lines: string;
  gross_minor: string;
}
export interface CurrencySumRow {
  currency: string;
  amount_minor: string;
}
export interface PurposeRow {
  currency: string;
  purpose: string;
  amount_minor: string;
}

type Row = Record<string, unknown>;
const utc_day = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

export function selectGmvByDay(db: Queryable, tenant_id: string, from: Date, to: Date): Promise<DayRow[]> {
  return db.query<DayRow & Row>(
    `SELECT currency::text AS currency, ${utc_day("paid_at")} AS day,
            count(*)::text AS orders, sum(paid_minor)::text AS gmv_minor
       FROM orders WHERE tenant_id = $1 AND paid_at >= $2 AND paid_at < $3
      GROUP BY 1, 2 ORDER BY 2, 1`,
    [tenant_id, from, to],
  );
}

export function selectRefundsByDay(
  db: Queryable,
  tenant_id: string,
  from: Date,
  to: Date,
): Promise<RefundDayRow[]> {
  return db.query<RefundDayRow & Row>(
    `SELECT o.currency::text AS currency, ${utc_day("r.created_at")} AS day, r.kind,
            count(*)::text AS count, sum(r.amount_minor)::text AS amount_minor
       FROM order_refunds r JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
      WHERE r.tenant_id = $1 AND r.created_at >= $2 AND r.created_at < $3
      GROUP BY 1, 2, 3 ORDER BY 2, 1, 3`,
    [tenant_id, from, to],
  );
}

/** Gross line value (quantity × unit price) per category of the orders paid in the period. */
export function selectCategories(
  db: Queryable,
  tenant_id: string,
  from: Date,
  to: Date,
): Promise<CategoryRow[]> {
  return db.query<CategoryRow & Row>(
    `SELECT o.currency::text AS currency, coalesce(l->>'category', '') AS category, count(*)::text AS lines,
            sum((l->>'qty')::numeric * (l->>'unit_price_minor')::numeric)::text AS gross_minor
       FROM orders o CROSS JOIN LATERAL jsonb_array_elements(coalesce(o.facts->'lines', '[]'::jsonb)) AS l
      WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3
      GROUP BY 1, 2 ORDER BY 4 DESC`,
    [tenant_id, from, to],
  );
}

/** Coupons the platform funded on the orders paid in the period. */
export function selectSubsidies(
  db: Queryable,
  tenant_id: string,
  from: Date,
  to: Date,
): Promise<CurrencySumRow[]> {
  return db.query<CurrencySumRow & Row>(
    `SELECT o.currency::text AS currency, sum((c->>'amount_minor')::numeric)::text AS amount_minor
       FROM orders o CROSS JOIN LATERAL jsonb_array_elements(coalesce(o.facts->'coupons', '[]'::jsonb)) AS c
      WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3 AND c->>'funded_by' = 'platform'
      GROUP BY 1`,
    [tenant_id, from, to],
  );
}

/**
 * The platform's net share from splits and their reversals effective in the
 * period: what its held and available accounts received (commission), less
 * what refunds and chargebacks took back.
 */
export function selectCommission(
  db: Queryable,
  tenant_id: string,
  from: Date,
  to: Date,
): Promise<CurrencySumRow[]> {
  return db.query<CurrencySumRow & Row>(
    `SELECT p.currency::text AS currency, sum(p.amount_minor)::text AS amount_minor
       FROM parties pa
       JOIN accounts a ON a.tenant_id = pa.tenant_id AND a.party_id = pa.id AND a.purpose IN ('held', 'available')
       JOIN postings p ON p.tenant_id = a.tenant_id AND p.account_id = a.id
       JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE pa.tenant_id = $1 AND pa.kind = 'platform'
        AND j.kind IN ('split', 'refund_reversal', 'chargeback_reversal')
        AND p.effective_at >= $2 AND p.effective_at < $3
      GROUP BY 1`,
    [tenant_id, from, to],
  );
}

/** Every party's money by purpose now (held, available, in transit, paid out, debt). */
export function selectBalancesByPurpose(db: Queryable, tenant_id: string): Promise<PurposeRow[]> {
  return db.query<PurposeRow & Row>(
    `SELECT a.currency::text AS currency, a.purpose, sum(b.posted_minor)::text AS amount_minor
       FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND a.purpose IN ('held', 'available', 'in_transit', 'paid_out', 'debt')
      GROUP BY 1, 2`,
    [tenant_id],
  );
}
