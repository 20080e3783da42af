import { assert } from "../../core/assert.ts";
import {
  dispatch_events_per_batch_max,
  dispatcher_catch_up_rounds_max,
  dispatcher_interval_ms_default,
  dispatcher_round_send_ms_max,
  webhook_lease_ms_default,
} from "../../core/limits.ts";
import { parseRetrySchedule, standard_retry_schedule_ms } from "../../core/notifications/retry-schedule.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { forEachTenant, type TenantErrorHandler } from "../tenant-rounds.ts";
import { privateAllowed, type Resolver } from "./address-guard.ts";
import { Mailer, mailConfigFromEnv, sendDueMails } from "./mailer.ts";
import { fanOutPeople } from "./people.ts";

import { fanOutWebhooks } from "./webhook-fanout.ts";
import { HandOff } from "./webhook-hand-off.ts";
import { sendDueWebhooks } from "./webhook-sender.ts";

// The notification dispatcher: for each tenant, one round fans the newly
// sequenced events out to people (inbox, mail) and to webhook endpoints, each
// channel with its own durable cursor, and sends the webhooks it makes as each
// fan-out commits (handed over already leased, decisions §30), then whatever
// else is due (retries, lapsed leases, redeliveries by hand), then the mails. Every step is its own short transaction under the
// tenant's advisory lock (the sender has a lock of its own, so sending goes on
// while a fan-out commits), so several processes elect one leader per tenant
// per step, a crash loses nothing, and booking never waits for it: it only
// reads the event stream that booking already writes, and takes no lock that
// booking takes.

export interface DispatcherOptions {
  interval_ms?: number;
  retry_schedule_ms?: readonly number[];
  allow_private?: boolean;
  mailer?: Mailer;
  lease_ms?: number;
  batch_max?: number;
  resolver?: Resolver;
  on_error?: (error: unknown, tenant_id: string) => void;
}

export interface DispatcherDeps {
  retry_schedule_ms: readonly number[];
  allow_private: boolean;
  mailer: Mailer;
  lease_ms?: number;
  batch_max?: number;
  /** How webhook hosts are resolved at delivery; the guard checks its answers either way. */
  resolver?: Resolver;
}

export function dispatcherDepsFromEnv(options: DispatcherOptions = {}): DispatcherDeps {
  const schedule_text = process.env.CLEARSPLIT_WEBHOOK_RETRY_SCHEDULE_MS;
  return {
    retry_schedule_ms:
      options.retry_schedule_ms ??
      (schedule_text ? parseRetrySchedule(schedule_text) : standard_retry_schedule_ms),
    allow_private: options.allow_private ?? privateAllowed(),
    mailer: options.mailer ?? new Mailer(mailConfigFromEnv()),
    ...(options.lease_ms === undefined ? {} : { lease_ms: options.lease_ms }),
    ...(options.batch_max === undefined ? {} : { batch_max: options.batch_max }),
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
  };
}

export interface RoundCounts {
  people_events: number;
  webhook_events: number;
  webhook_attempts: number;
  mails: number;
}

/** One round for one tenant. */
export async function dispatchTenant(
  ctx: ServiceContext,
  tenant_id: string,
  deps: DispatcherDeps,
): Promise<RoundCounts> {
  const batch_max = deps.batch_max ?? dispatch_events_per_batch_max;
  const counts: RoundCounts = { people_events: 0, webhook_events: 0, webhook_attempts: 0, mails: 0 };
  const lease_ms = deps.lease_ms ?? webhook_lease_ms_default;
  const hand_off = new HandOff();
  // The fan-out and the sender run side by side: each fan-out batch is sent as soon as it commits,
  // while later events are still being fanned out.
  const fanning = (async () => {
    try {
      for (let round = 0; round < dispatcher_catch_up_rounds_max; round++) {
        const taken = await inTransaction(ctx.db, (tx) => fanOutPeople(tx, tenant_id, ctx.now(), batch_max));
        counts.people_events += taken;
        if (taken < batch_max) break;
      }
      for (let round = 0; round < dispatcher_catch_up_rounds_max; round++) {
        await hand_off.room();
        const fanned = await inTransaction(ctx.db, async (tx) => {
          // Taken before the lease's start, so the sender never thinks the lease longer than it is.
          const leased_ms = performance.now();
          const now = ctx.now();
          const made = await fanOutWebhooks(
            tx,
            tenant_id,
            now,
            new Date(now.getTime() + lease_ms),
            batch_max,
          );
          return { ...made, leased_ms };
        });
        hand_off.push(fanned.leased, fanned.leased_ms);
        counts.webhook_events += fanned.events;
        if (fanned.events < batch_max) break;
      }
    } finally {
      hand_off.close();
    }
  })();
  const sender = {
    retries_due_by: ctx.now(),
    retry_schedule_ms: deps.retry_schedule_ms,
    allow_private: deps.allow_private,
    lease_ms,
    hand_off,
    ...(deps.resolver === undefined ? {} : { resolver: deps.resolver }),
  };
  const sending = (async () => {
    try {
      // The first pass sends what the fan-out hands over until it is done, then claims what else is due.
      let pass = await sendDueWebhooks(ctx, tenant_id, sender);
      counts.webhook_attempts += pass.claimed;
      const after_fan_out = performance.now();
      while (!pass.drained && performance.now() - after_fan_out < dispatcher_round_send_ms_max) {
        pass = await sendDueWebhooks(ctx, tenant_id, sender);
        counts.webhook_attempts += pass.claimed;
      }
    } catch (error) {
      hand_off.abandon();
      throw error;
    }
  })();
  const [fanned, sent] = await Promise.allSettled([fanning, sending]);
  if (fanned.status === "rejected") throw fanned.reason;
  if (sent.status === "rejected") throw sent.reason;
  counts.mails = await sendDueMails(ctx, tenant_id, deps.mailer);
  return counts;
}

/** One round over every tenant; errors of one tenant do not stop the others (src/service/tenant-rounds.ts). */
export async function dispatchOnce(
  ctx: ServiceContext,
  deps: DispatcherDeps,
  on_error?: TenantErrorHandler,
): Promise<RoundCounts> {
  const total: RoundCounts = { people_events: 0, webhook_events: 0, webhook_attempts: 0, mails: 0 };
  const tenants = await selectTenantIds(ctx.db);
  await forEachTenant(
    tenants,
    async (id) => {
      const counts = await dispatchTenant(ctx, id, deps);
      total.people_events += counts.people_events;
      total.webhook_events += counts.webhook_events;
      total.webhook_attempts += counts.webhook_attempts;
      total.mails += counts.mails;
    },
    on_error,
  );
  return total;
}

export interface Dispatcher {
  stop(): Promise<void>;
  /** Resolves after a complete round that started after this call. */
  settled(): Promise<void>;
}

/** Runs rounds until stopped: at once again while there is work, else after `interval_ms`. */
export function startDispatcher(ctx: ServiceContext, options: DispatcherOptions = {}): Dispatcher {
  const interval_ms = options.interval_ms ?? dispatcher_interval_ms_default;
  assert(interval_ms >= 1 && interval_ms <= 60_000, "dispatcher interval must be 1 ms to 60 s");
  const deps = dispatcherDepsFromEnv(options);
  const on_error =
    options.on_error ??
    ((error: unknown, tenant_id: string) =>
      process.stderr.write(
        `dispatcher ${tenant_id}: ${error instanceof Error ? error.message : String(error)}\n`,
      ));
  let running = true;
  let wake: (() => void) | undefined;
  let waiters: (() => void)[] = [];

  async function loop(): Promise<void> {
    while (running) {
      const pending = waiters;
      waiters = [];
      let busy = false;
      try {
        const counts = await dispatchOnce(ctx, deps, on_error);
        busy = counts.people_events + counts.webhook_events + counts.webhook_attempts + counts.mails > 0;
      } catch (error) {
        on_error(error, "*");
      }
      for (const resolve of pending) resolve();
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, busy ? 1 : interval_ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const done = loop();
  return {
    async stop() {
      running = false;
      wake?.();
      await done;
      for (const resolve of waiters) resolve();
      deps.mailer.close();
    },
    settled() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        wake?.();
      });
    },
  };
}
