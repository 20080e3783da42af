import { assert } from "../../core/assert.ts";
import { evaluateHistory, type LoadedConfig } from "../../core/audit/config.ts";
import type { HistoryFacts } from "../../core/audit/types.ts";
import { audit_events_per_round_max, hits_per_call_max } from "../../core/limits.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import {
  type StreamRow,
  selectAuditCursor,
  selectEventsAfter,
  selectOrderFacts,
  upsertAuditCursor,
} from "../../store/audit-runner-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { forEachTenant, type TenantErrorHandler } from "../tenant-rounds.ts";
import { configInForce } from "./configs.ts";
import { bookedOrdersFacts, orderIds, refundsFacts } from "./history-facts.ts";
import { raiseAuditHits } from "./hits.ts";

// The history rules, off the booking's critical path. They follow the
// commit-ordered event stream (event_seqs) from a durable per-tenant cursor
// (audit_cursors). One round reads a page of events after the cursor,
// evaluates them, records their hits and moves the cursor, in ONE
// transaction: a crash anywhere leaves the cursor where it was, and the page
// is evaluated again after a restart (at least once). Hits carry dedupe keys
// made of rule, subject and event id, so a page evaluated twice adds nothing.

const audit_lock_class = 0x0c5e_0a01;

/** One round for one tenant. Returns how many events it consumed (0: nothing new, or another process leads). */
export function runAuditRound(
  ctx: ServiceContext,
  tenant_id: string,
  limit = audit_events_per_round_max,
): Promise<number> {
  assert(limit >= 1 && limit <= audit_events_per_round_max, "audit round size out of range");
  return inTransaction(ctx.db, async (tx) => {
    if (!(await tryTransactionLock(tx, audit_lock_class, tenant_id))) return 0;
    const after = await selectAuditCursor(tx, tenant_id);
    const events = await selectEventsAfter(tx, tenant_id, after, limit);
    if (events.length === 0) return 0;
    const loaded = await configInForce(tx, tenant_id);
    if (loaded !== null) await evaluateEvents(tx, tenant_id, loaded, events, ctx.now());
    const last = BigInt(events[events.length - 1]!.seq);
    assert(last > after, `the audit cursor moves forward: ${after} to ${last}`);
    await upsertAuditCursor(tx, tenant_id, last, ctx.now());
    return events.length;
  });
}

/**
 * Evaluates a round's events in stream order. Their facts are read for the
 * whole round at once (history-facts.ts), then each event's hits are raised
 * in turn, as when they were read one event at a time.
 */
async function evaluateEvents(
  tx: Queryable,
  tenant_id: string,
  loaded: LoadedConfig,
  events: readonly StreamRow[],
  now: Date,
): Promise<void> {
  const parsed = events.map((event) => ({
    event,
    payload: (typeof event.payload === "string" ? JSON.parse(event.payload) : event.payload) as Record<
      string,
      unknown
    >,
  }));
  const booked = parsed.filter(({ event }) => event.type === "order.booked");
  const refunded = parsed.filter(
    ({ event }) => event.type === "order.refunded" || event.type === "order.charged_back",
  );
  if (booked.length === 0 && refunded.length === 0) return;
  const orders = await selectOrderFacts(
    tx,
    tenant_id,
    orderIds([...booked, ...refunded].map(({ payload }) => ({ order_id: payload.order_id }))),
  );
  const booked_facts = await bookedOrdersFacts(
    tx,
    tenant_id,
    loaded.config,
    booked.map(({ payload }) => ({ order_id: payload.order_id })),
    true,
    orders,
  );
  const refund_facts = await refundsFacts(
    tx,
    tenant_id,
    loaded.config,
    refunded.map(({ event, payload }) => ({ payload, refunded_at: event.created_at })),
    orders,
  );
  const facts_of = new Map<string, HistoryFacts | null>();
  for (const [index, { event }] of booked.entries()) facts_of.set(event.id, booked_facts[index] ?? null);
  for (const [index, { event }] of refunded.entries()) facts_of.set(event.id, refund_facts[index] ?? null);
  for (const { event } of parsed) {
    const facts = facts_of.get(event.id) ?? null;
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

/** Rounds for every tenant until each is caught up (or `rounds_max` per tenant). */
export async function runAuditOnce(
  ctx: ServiceContext,
  rounds_max = 50,
  on_error?: TenantErrorHandler,
): Promise<number> {
  const tenants = await selectTenantIds(ctx.db);
  let total = 0;
  await forEachTenant(
    tenants,
    async (id) => {
      for (let round = 0; round < rounds_max; round++) {
        const count = await runAuditRound(ctx, id);
        total += count;
        if (count < audit_events_per_round_max) break;
      }
    },
    on_error,
  );
  return total;
}

export interface AuditRunnerOptions {
  interval_ms?: number;
  on_error?: TenantErrorHandler;
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
      running = runAuditOnce(ctx, undefined, (error, tenant_id) => options.on_error?.(error, tenant_id))
        .then(
          () => undefined,
          (error: unknown) => options.on_error?.(error, "*"),
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
