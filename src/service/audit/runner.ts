import { assert } from "../../core/assert.ts";
import { type AuditConfig, evaluateHistory, type LoadedConfig, ruleParams } from "../../core/audit/config.ts";
import type { HistoryFacts, OrderHistoryFacts, RefundHistoryFacts } from "../../core/audit/types.ts";
import { audit_events_per_round_max, hits_per_call_max } from "../../core/limits.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { configInForce } from "./configs.ts";
import { raiseAuditHits } from "./hits.ts";

// The history rules, off the booking's critical path. They follow the
// commit-ordered event stream (event_seqs) from a durable per-tenant cursor
// (audit_cursors). One round reads a page of events after the cursor,
// evaluates them, records their hits and moves the cursor, in ONE
// transaction: a crash anywhere leaves the cursor where it was, and the page
// is evaluated again after a restart (at least once). Hits carry dedupe keys
// made of rule, subject and event id, so a page evaluated twice adds nothing.

const audit_lock_class = 0x0c5e_0a01;
const history_orders_max = 1_000;

interface StreamRow {
  seq: bigint;
  id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
  [key: string]: unknown;
}

/** One round for one tenant. Returns how many events it consumed (0: nothing new, or another process leads). */
export function runAuditRound(
  ctx: ServiceContext,
  tenant_id: string,
  limit = audit_events_per_round_max,
): Promise<number> {
  assert(limit >= 1 && limit <= audit_events_per_round_max, "audit round size out of range");
  return inTransaction(ctx.db, async (tx) => {
    if (!(await tryTransactionLock(tx, audit_lock_class, tenant_id))) return 0;
    const [cursor] = await tx.query<{ seq: bigint }>("SELECT seq FROM audit_cursors WHERE tenant_id = $1", [
      tenant_id,
    ]);
    const after = BigInt(cursor?.seq ?? 0n);
    const events = await tx.query<StreamRow>(
      `SELECT s.seq, e.id::text AS id, e.type, e.payload, e.created_at
         FROM event_seqs s CROSS JOIN LATERAL (
           SELECT id, type, payload, created_at FROM events WHERE tenant_id = $1 AND id = s.event_id LIMIT 1) e
        WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`,
      [tenant_id, after, limit],
    );
    if (events.length === 0) return 0;
    const loaded = await configInForce(tx, tenant_id);
    if (loaded !== null) await evaluateEvents(tx, tenant_id, loaded, events, ctx.now());
    const last = BigInt(events[events.length - 1]!.seq);
    await tx.query(
      `INSERT INTO audit_cursors (tenant_id, seq, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
      [tenant_id, last, ctx.now()],
    );
    return events.length;
  });
}

async function evaluateEvents(
  tx: Queryable,
  tenant_id: string,
  loaded: LoadedConfig,
  events: readonly StreamRow[],
  now: Date,
): Promise<void> {
  for (const event of events) {
    const payload = (typeof event.payload === "string" ? JSON.parse(event.payload) : event.payload) as Record<
      string,
      unknown
    >;
    let facts: HistoryFacts | null = null;
    if (event.type === "order.booked") facts = await orderFacts(tx, tenant_id, loaded.config, payload);
    else if (event.type === "order.refunded" || event.type === "order.charged_back")
      facts = await refundFacts(tx, tenant_id, loaded.config, payload, event.created_at);
    if (facts === null) continue;
    const hits = evaluateHistory(loaded.config, facts, event.id);
    for (let start = 0; start < hits.length; start += hits_per_call_max) {
      await raiseAuditHits(
        tx,
        tenant_id,
        hits.slice(start, start + hits_per_call_max),
        { config_hash: loaded.hash, actor: "system:audit" },
        now,
      );
    }
  }
}

interface OrderFactsRow {
  merchant_id: string;
  currency: string;
  paid_minor: bigint;
  paid_at: Date;
  buyer_ref: string | null;
  [key: string]: unknown;
}

async function orderRow(
  tx: Queryable,
  tenant_id: string,
  order_id: unknown,
): Promise<OrderFactsRow | undefined> {
  if (typeof order_id !== "string") return undefined;
  const [row] = await tx.query<OrderFactsRow>(
    `SELECT merchant_id, currency::text AS currency, paid_minor, paid_at, facts->>'buyer_ref' AS buyer_ref
       FROM orders WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, order_id],
  );
  return row;
}

/**
 * The history facts of a booked order. A back-test (`record_buyer` false)
 * records nothing and leaves the buyer's count at 0: it counts buyer orders
 * itself, from the orders of the period (see backtest.ts).
 */
export async function orderFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  payload: Record<string, unknown>,
  record_buyer = true,
): Promise<HistoryFacts | null> {
  const order = await orderRow(tx, tenant_id, payload.order_id);
  if (order === undefined) return null;
  const order_id = payload.order_id as string;
  if (order.buyer_ref !== null && record_buyer) {
    await tx.query(
      `INSERT INTO audit_buyer_orders (tenant_id, buyer_ref, paid_at, order_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [tenant_id, order.buyer_ref, order.paid_at, order_id],
    );
  }
  const median = ruleParams(config, "order_amount_vs_median");
  const velocity = ruleParams(config, "order_velocity");
  if (median === undefined && velocity === undefined) return null;
  const recent =
    median === undefined
      ? []
      : await tx.query<{ paid_minor: bigint }>(
          `SELECT paid_minor FROM orders WHERE tenant_id = $1 AND merchant_id = $2 AND (paid_at, id) < ($3, $4)
            ORDER BY paid_at DESC, id DESC LIMIT $5`,
          [
            tenant_id,
            order.merchant_id,
            order.paid_at,
            order_id,
            Math.min(median.history_orders!, history_orders_max),
          ],
        );
  const window_ms = velocity?.window_ms ?? 0;
  const since = new Date(order.paid_at.getTime() - window_ms);
  const merchant_count =
    velocity === undefined
      ? 0
      : await countCapped(
          tx,
          `SELECT 1 FROM orders WHERE tenant_id = $1 AND merchant_id = $2 AND paid_at > $3
              AND (paid_at, id) <= ($4::timestamptz, $6::text) LIMIT $5`,
          [tenant_id, order.merchant_id, since, order.paid_at, velocity.merchant_orders_max! + 1, order_id],
        );
  const buyer_count =
    velocity === undefined || order.buyer_ref === null || !record_buyer
      ? 0
      : await countCapped(
          tx,
          `SELECT 1 FROM audit_buyer_orders WHERE tenant_id = $1 AND buyer_ref = $2 AND paid_at > $3
              AND (paid_at, order_id) <= ($4::timestamptz, $6::text) LIMIT $5`,
          [tenant_id, order.buyer_ref, since, order.paid_at, velocity.buyer_orders_max! + 1, order_id],
        );
  const facts: OrderHistoryFacts = {
    order_id,
    merchant_id: order.merchant_id,
    currency: order.currency,
    paid_minor: BigInt(order.paid_minor),
    merchant_recent_paid_minor: recent.map((row) => BigInt(row.paid_minor)),
    merchant_orders_in_window: merchant_count,
    buyer_ref: order.buyer_ref,
    buyer_orders_in_window: buyer_count,
  };
  return { order: facts };
}

async function countCapped(tx: Queryable, sql: string, params: unknown[]): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `SELECT count(*)::int8 AS count FROM (${sql}) AS capped`,
    params,
  );
  return Number(row?.count ?? 0n);
}

export async function refundFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  payload: Record<string, unknown>,
  refunded_at: Date,
): Promise<HistoryFacts | null> {
  const order = await orderRow(tx, tenant_id, payload.order_id);
  if (order === undefined) return null;
  const rate = ruleParams(config, "merchant_refund_rate");
  const since = new Date(refunded_at.getTime() - (rate?.window_ms ?? 0));
  const [counts] =
    rate === undefined
      ? [{ orders: 0n, refunds: 0n }]
      : await tx.query<{ orders: bigint; refunds: bigint }>(
          `SELECT (SELECT count(*) FROM orders WHERE tenant_id = $1 AND merchant_id = $2 AND paid_at > $3 AND paid_at <= $4)::int8 AS orders,
                  (SELECT count(*) FROM order_refunds r JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
                    WHERE r.tenant_id = $1 AND o.merchant_id = $2 AND r.created_at > $3 AND r.created_at <= $4)::int8 AS refunds`,
          [tenant_id, order.merchant_id, since, refunded_at],
        );
  const [debt] = await tx.query<{ posted: bigint }>(
    `SELECT coalesce(sum(b.posted_minor), 0)::int8 AS posted FROM accounts a
       JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND a.party_id = $2 AND a.purpose = 'debt' AND a.currency = $3`,
    [tenant_id, order.merchant_id, order.currency],
  );
  const posted = BigInt(debt?.posted ?? 0n);
  const facts: RefundHistoryFacts = {
    order_id: payload.order_id as string,
    refund_id: String(payload.refund_id ?? ""),
    merchant_id: order.merchant_id,
    currency: order.currency,
    paid_minor: BigInt(order.paid_minor),
    refund_minor: BigInt(String(payload.amount_minor ?? 0)),
    paid_at_ms: order.paid_at.getTime(),
    refunded_at_ms: refunded_at.getTime(),
    merchant_orders_in_window: Number(counts?.orders ?? 0n),
    merchant_refunds_in_window: Number(counts?.refunds ?? 0n),
    // Debt accounts are debited as the debt grows: what is owed is minus the balance.
    merchant_debt_minor: posted < 0n ? -posted : 0n,
  };
  return { refund: facts };
}

/** Rounds for every tenant until each is caught up (or `rounds_max` per tenant). */
export async function runAuditOnce(ctx: ServiceContext, rounds_max = 50): Promise<number> {
  const tenants = await selectTenantIds(ctx.db);
  let total = 0;
  for (const id of tenants) {
    for (let round = 0; round < rounds_max; round++) {
      const count = await runAuditRound(ctx, id);
      total += count;
      if (count < audit_events_per_round_max) break;
    }
  }
  return total;
}

export interface AuditRunnerOptions {
  interval_ms?: number;
  on_error?: (error: unknown) => void;
}

/** The history rules in the background, every `interval_ms` (500 ms by default): hits within seconds. */
export function startAuditRunner(
  ctx: ServiceContext,
  options: AuditRunnerOptions = {},
): { stop(): Promise<void> } {
  const interval_ms = options.interval_ms ?? 500;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runAuditOnce(ctx)
        .then(
          () => undefined,
          (error: unknown) => options.on_error?.(error),
        )
        .then(schedule);
    }, interval_ms);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
