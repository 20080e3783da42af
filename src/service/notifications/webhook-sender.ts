import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import {
  webhook_claims_in_flight_max,
  webhook_deliveries_per_claim_max,
  webhook_lease_ms_default,
  webhook_send_pass_ms_max,
  webhook_sends_per_endpoint_max,
} from "../../core/limits.ts";
import { nextAttempt, outcomeOf } from "../../core/notifications/retry-schedule.ts";
import { webhookHeaders } from "../../core/notifications/webhook-signature.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import type { Resolver } from "./address-guard.ts";
import { type HttpAttempt, postWebhook } from "./webhook-http.ts";

// Sends due deliveries. A pass claims them in batches with a lease (one short
// transaction each, under the tenant's sender lock), posts them outside any
// transaction, then records every attempt of a batch in one more. The next
// batch is claimed while earlier ones are on the wire, so the database and the
// receiver work at once. A process that dies between claim and record leaves
// the lease to expire; the delivery is sent again with the same `webhook-id`:
// at least once, never lost.

/** Fanned-out deliveries waiting for the sender, at most, before the fan-out waits (4 claims' worth). */
export const handed_deliveries_max = 4 * webhook_deliveries_per_claim_max;
// The sender's advisory lock ("ClearSplit notifications" + 1): its own key, so claiming never waits
// for a fan-out in flight; the sequencers and folds use others.
export const sender_lock_class = 0x0c5e_0e18;

export interface SenderOptions {
  retry_schedule_ms: readonly number[];
  allow_private: boolean;
  lease_ms?: number;
  timeout_ms?: number;
  /** How endpoint host names are resolved at delivery (default: the system's resolver). */
  resolver?: Resolver;
  /**
   * Retries are claimed only when due by this instant (default: now); first attempts whenever due. A
   * dispatcher round passes its start, so a failing delivery is tried at most once per round however
   * short its retry delay.
   */
  retries_due_by?: Date;
  /**
   * The fan-out's deliveries, sent first as they are handed over; the pass claims from the table only
   * once the hand-off is closed and empty.
   */
  hand_off?: HandOff;
}

export interface SendPass {
  /** Deliveries claimed (and attempted, unless their endpoint answered 410 earlier in the pass). */
  claimed: number;
  /** The last claim came back short: nothing more was due. False when the pass ran out of time. */
  drained: boolean;
}

/** A delivery leased to this process, with what sending it needs of its endpoint. */
export type ClaimedDelivery = {
  id: string;
  endpoint_id: string;
  message_id: string;
  type: string;
  body: string;
  attempts: number;
  url: string;
  party_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
};
type Claimed = ClaimedDelivery;

/** Deliveries leased at `leased_ms` (performance.now()), sent together and recorded in one transaction. */
type LeasedBatch = { deliveries: Claimed[]; leased_ms: number };

/**
 * The fan-out's deliveries on their way to the sender of the same process: each fan-out transaction,
 * once committed, hands over what it made, already leased (decisions §30). Bounded: the fan-out waits for
 * `room()` so that it runs no further ahead of the sender than `handed_deliveries_max`.
 */
export class HandOff {
  private readonly batches: LeasedBatch[] = [];
  private waiters: (() => void)[] = [];
  private size_now = 0;
  private closed_now = false;
  private abandoned = false;

  /** Deliveries handed over and not taken yet. */
  get size(): number {
    return this.size_now;
  }

  get closed(): boolean {
    return this.closed_now;
  }

  /** Hands over a committed fan-out's leased deliveries, in sending batches of at most `webhook_deliveries_per_claim_max`. */
  push(deliveries: readonly Claimed[], leased_ms: number): void {
    assert(!this.closed_now, "nothing is handed over after the fan-out closed the hand-off");
    if (this.abandoned) return;
    for (let start = 0; start < deliveries.length; start += webhook_deliveries_per_claim_max) {
      const batch = deliveries.slice(start, start + webhook_deliveries_per_claim_max);
      this.batches.push({ deliveries: batch, leased_ms });
      this.size_now += batch.length;
    }
    this.wake();
  }

  /** The fan-out is over (done or failed): the sender stops waiting for more. */
  close(): void {
    this.closed_now = true;
    this.wake();
  }

  /**
   * The sender is gone (its pass failed): what is still here is dropped, and later pushes too, so the
   * fan-out never waits for room. The dropped deliveries stay leased in the table until the lease lapses,
   * then any sender claims them.
   */
  abandon(): void {
    this.abandoned = true;
    this.batches.length = 0;
    this.size_now = 0;
    this.wake();
  }

  take(): LeasedBatch | undefined {
    const batch = this.batches.shift();
    if (batch !== undefined) {
      this.size_now -= batch.deliveries.length;
      this.wake();
    }
    return batch;
  }

  /** Resolves at the next push, take or close. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once fewer than `handed_deliveries_max` deliveries wait to be taken. */
  async room(): Promise<void> {
    while (this.size_now >= handed_deliveries_max) await this.changed();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

async function claimDue(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  lease_ms: number,
  retries_due_by: Date,
): Promise<Claimed[]> {
  if (!(await tryTransactionLock(tx, sender_lock_class, tenant_id))) return [];
  // One statement: pick the due rows (skipping any another transaction holds), lease them, return them.
  // The ids go through ARRAY(...) so the lease is a primary-key lookup whatever the planner thinks of
  // the table's size: a queue table grows faster than its statistics, and a join planned for one row
  // compared every pending row with every claimed one.
  return tx.query<Claimed>(
    `WITH leased AS (
       UPDATE webhook_deliveries d SET lease_until = $4
        WHERE d.tenant_id = $1 AND d.id = ANY(ARRAY(
          SELECT c.id FROM webhook_deliveries c
           WHERE c.tenant_id = $1 AND c.status = 'pending' AND c.next_attempt_at <= $2
             AND (c.attempts = 0 OR c.next_attempt_at <= $5) AND (c.lease_until IS NULL OR c.lease_until <= $2)
             AND c.endpoint_id = ANY(ARRAY(SELECT w.id FROM webhook_endpoints w WHERE w.tenant_id = $1 AND w.status = 'enabled'))
           ORDER BY c.next_attempt_at, c.id LIMIT $3 FOR UPDATE SKIP LOCKED))
       RETURNING d.id, d.endpoint_id, d.message_id, d.type, d.body, d.attempts, d.next_attempt_at)
     SELECT l.id::text AS id, l.endpoint_id::text AS endpoint_id, l.message_id, l.type, l.body, l.attempts,
            w.url, w.party_id, w.secret, w.previous_secret, w.previous_secret_expires_at
       FROM leased l JOIN webhook_endpoints w ON w.tenant_id = $1 AND w.id = l.endpoint_id
      ORDER BY l.next_attempt_at, l.id`,
    [tenant_id, now, webhook_deliveries_per_claim_max, new Date(now.getTime() + lease_ms), retries_due_by],
  );
}

/** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
export function signingSecrets(
  endpoint: { secret: string; previous_secret: string | null; previous_secret_expires_at: Date | null },
  now: Date,
): string[] {
  const overlap =
    endpoint.previous_secret !== null &&
    endpoint.previous_secret_expires_at !== null &&
    endpoint.previous_secret_expires_at.getTime() > now.getTime();
  return overlap ? [endpoint.secret, endpoint.previous_secret!] : [endpoint.secret];
}

async function sendOne(delivery: Claimed, now: Date, options: SenderOptions): Promise<HttpAttempt> {
  const headers = webhookHeaders(
    signingSecrets(delivery, now),
    delivery.message_id,
    Math.floor(now.getTime() / 1_000),
    delivery.body,
  );
  return postWebhook(
    delivery.url,
    headers,
    delivery.body,
    options.allow_private,
    options.timeout_ms,
    options.resolver,
  );
}

/**
 * At most `width` calls at once per key, started in the order asked: one endpoint's deliveries leave in
 * claim order (its sequence order) but may arrive in another, and one slow endpoint does not hold up others.
 */
export class KeyedLimiter {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  constructor(private readonly width: number) {
    assert(width >= 1, "limiter width must be positive");
  }

  async run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    if ((this.running.get(key) ?? 0) >= this.width)
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(key) ?? [];
        queue.push(resolve);
        this.waiting.set(key, queue);
      });
    else this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const queue = this.waiting.get(key);
      const next = queue?.shift();
      if (queue !== undefined && queue.length === 0) this.waiting.delete(key);
      // A waiter takes over the slot; otherwise it is freed.
      if (next !== undefined) next();
      else if ((this.running.get(key) ?? 0) <= 1) this.running.delete(key);
      else this.running.set(key, this.running.get(key)! - 1);
    }
  }
}

const endpoint_sends = new KeyedLimiter(webhook_sends_per_endpoint_max);

type Decision = { kind: "succeeded" } | { kind: "gone" } | { kind: "retry"; at: Date } | { kind: "dead" };

/** Pure: what an attempt's answer means for its delivery. */
function decide(delivery: Claimed, attempt: HttpAttempt, now: Date, options: SenderOptions): Decision {
  const outcome =
    attempt.status_code === null
      ? ({ kind: "failed", retry_after_ms: null } as const)
      : outcomeOf(attempt.status_code, attempt.retry_after, now.getTime());
  if (outcome.kind !== "failed") return outcome;
  const next = nextAttempt(options.retry_schedule_ms, delivery.attempts + 1, outcome.retry_after_ms);
  return next.kind === "retry" ? { kind: "retry", at: new Date(now.getTime() + next.delay_ms) } : next;
}

/** Records a round's attempts and moves each delivery on: done, retried later, dead-lettered, or endpoint disabled. */
async function recordAttempts(
  tx: Queryable,
  tenant_id: string,
  claimed: readonly Claimed[],
  attempts: readonly (HttpAttempt | null)[],
  started_at: Date,
  now: Date,
  options: SenderOptions,
): Promise<void> {
  assert(claimed.length === attempts.length, "one attempt (or null: not sent) per claimed delivery");
  const skipped = claimed.filter((_, i) => attempts[i] === null).map((delivery) => delivery.id);
  if (skipped.length > 0)
    // Not sent (its endpoint answered 410 earlier in the pass, or its lease ran short while it waited
    // for a slot): the lease goes, the delivery stays as it was.
    await tx.query(
      "UPDATE webhook_deliveries SET lease_until = NULL WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending'",
      [tenant_id, skipped],
    );
  const sent = claimed.flatMap((delivery, i) => {
    const attempt = attempts[i];
    return attempt === null || attempt === undefined ? [] : [{ delivery, attempt }];
  });
  if (sent.length === 0) return;
  const ids: string[] = [];
  const statuses: string[] = [];
  const next_at: (Date | null)[] = [];
  const codes: (number | null)[] = [];
  const errors: (string | null)[] = [];
  const dead: { delivery: Claimed; error: string | null; attempts: number }[] = [];
  const gone: Claimed[] = [];
  for (const { delivery, attempt } of sent) {
    const decision = decide(delivery, attempt, now, options);
    const error =
      decision.kind === "succeeded" ? null : (attempt.error ?? `HTTP ${attempt.status_code ?? "no answer"}`);
    ids.push(delivery.id);
    codes.push(attempt.status_code);
    errors.push(decision.kind === "gone" ? "410 Gone: endpoint disabled" : error);
    statuses.push(
      decision.kind === "retry" ? "pending" : decision.kind === "succeeded" ? "succeeded" : "dead",
    );
    next_at.push(decision.kind === "retry" ? decision.at : null);
    if (decision.kind === "dead") dead.push({ delivery, error, attempts: delivery.attempts + 1 });
    if (decision.kind === "gone") gone.push(delivery);
  }
  // A first attempt is recorded on its delivery (decisions §30), later ones as webhook_attempts rows:
  // most deliveries succeed at once, and a row each cost more than the rest of the record.
  const later = sent.filter(({ delivery }) => delivery.attempts > 0);
  // The later attempts and the deliveries' new states in one round trip.
  await tx.query(
    `WITH attempts AS (
       INSERT INTO webhook_attempts (tenant_id, id, delivery_id, attempt, started_at, latency_ms, status_code, error)
       SELECT $1, a.id, a.delivery_id, a.attempt, $8, a.latency_ms, a.status_code, a.attempt_error
         FROM unnest($9::uuid[], $10::uuid[], $11::int4[], $12::int4[], $13::int4[], $14::text[])
           AS a(id, delivery_id, attempt, latency_ms, status_code, attempt_error)
       RETURNING 1)
     UPDATE webhook_deliveries d SET status = u.status, attempts = d.attempts + 1, lease_until = NULL,
            next_attempt_at = coalesce(u.next_at, d.next_attempt_at), last_status_code = u.code, last_error = u.error,
            finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE $2::timestamptz END,
            first_attempt_started_at = CASE WHEN d.attempts = 0 THEN $8 ELSE d.first_attempt_started_at END,
            first_attempt_latency_ms = CASE WHEN d.attempts = 0 THEN u.latency_ms ELSE d.first_attempt_latency_ms END,
            first_attempt_status_code = CASE WHEN d.attempts = 0 THEN u.code ELSE d.first_attempt_status_code END,
            first_attempt_error = CASE WHEN d.attempts = 0 THEN u.attempt_error ELSE d.first_attempt_error END
       FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::int4[], $7::text[], $15::int4[], $16::text[])
         AS u(id, status, next_at, code, error, latency_ms, attempt_error)
      WHERE d.tenant_id = $1 AND d.id = u.id`,
    [
      tenant_id,
      now,
      ids,
      statuses,
      next_at,
      codes,
      errors,
      started_at,
      later.map(() => newId()),
      later.map(({ delivery }) => delivery.id),
      later.map(({ delivery }) => delivery.attempts + 1),
      later.map(({ attempt }) => attempt.latency_ms),
      later.map(({ attempt }) => attempt.status_code),
      later.map(({ attempt }) => attempt.error),
      sent.map(({ attempt }) => attempt.latency_ms),
      sent.map(({ attempt }) => attempt.error),
    ],
  );
  for (const delivery of gone)
    await disableEndpoint(tx, tenant_id, delivery.endpoint_id, "the receiver answered 410 Gone", now);
  if (dead.length > 0)
    await enqueueEvents(
      tx,
      tenant_id,
      dead.map(({ delivery, error, attempts: count }) => ({
        type: "webhook_delivery.dead_lettered",
        party_ids: delivery.party_id === null ? [] : [delivery.party_id],
        payload: {
          delivery_id: delivery.id,
          endpoint_id: delivery.endpoint_id,
          url: delivery.url,
          message_id: delivery.message_id,
          event_type: delivery.type,
          attempts: count,
          last_error: error,
        },
      })),
      now,
    );
}

/** Disables an endpoint and tells its owners, in the caller's transaction. No-op when already disabled. */
export async function disableEndpoint(
  tx: Queryable,
  tenant_id: string,
  endpoint_id: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx.query<{ url: string; party_id: string | null }>(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, updated_at = $4
      WHERE tenant_id = $1 AND id = $2 AND status = 'enabled' RETURNING url, party_id`,
    [tenant_id, endpoint_id, reason, now],
  );
  const row = rows[0];
  if (row === undefined) return false;
  await enqueueEvents(
    tx,
    tenant_id,
    [
      {
        type: "webhook_endpoint.disabled",
        party_ids: row.party_id === null ? [] : [row.party_id],
        payload: { endpoint_id, url: row.url, reason },
      },
    ],
    now,
  );
  return true;
}

/**
 * One sending pass for a tenant: claims due batches until one comes back short (or the pass has run
 * `webhook_send_pass_ms_max`), with up to `webhook_claims_in_flight_max` batches being sent or recorded at once.
 * Claims nothing when another process holds the sender lock at that moment.
 */
export async function sendDueWebhooks(
  ctx: ServiceContext,
  tenant_id: string,
  options: SenderOptions,
): Promise<SendPass> {
  const lease_ms = options.lease_ms ?? webhook_lease_ms_default;
  assert(lease_ms >= 1, "lease must be positive");
  const pass_started = performance.now();
  // Endpoints that answered 410 in this pass: the rest of their claimed deliveries are not sent.
  const gone = new Set<string>();
  // A delivery still waiting for its endpoint's turn this long after its claim is not sent: its lease
  // must not lapse while it is on the wire, or another process would send it at the same time.
  const send_by_ms = lease_ms / 2;
  const in_flight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let total = 0;
  let drained = false;
  const sendBatch = async ({ deliveries: claimed, leased_ms: claimed_ms }: LeasedBatch) => {
    const started_at = ctx.now();
    const attempts = await Promise.all(
      claimed.map((delivery) =>
        endpoint_sends.run(delivery.endpoint_id, async () => {
          if (gone.has(delivery.endpoint_id) || performance.now() - claimed_ms > send_by_ms) return null;
          // Signed when it leaves, not when claimed: it may have waited for a slot.
          const attempt = await sendOne(delivery, ctx.now(), options);
          if (attempt.status_code === 410) gone.add(delivery.endpoint_id);
          return attempt;
        }),
      ),
    );
    const now = ctx.now();
    await inTransaction(ctx.db, (tx) =>
      recordAttempts(tx, tenant_id, claimed, attempts, started_at, now, options),
    );
  };
  const hand_off = options.hand_off;
  for (;;) {
    if (failures.length > 0) break;
    const handed = hand_off?.take();
    if (handed === undefined && hand_off !== undefined && !hand_off.closed) {
      // Woken by the fan-out, or by a batch ending (a failed one ends the pass).
      await Promise.race([hand_off.changed(), ...in_flight]);
      continue;
    }
    const claimed =
      handed ??
      (await inTransaction(ctx.db, async (tx) => {
        // Taken before the lease's start, so the lease is never thought longer than it is.
        const leased_ms = performance.now();
        const now = ctx.now();
        return {
          deliveries: await claimDue(tx, tenant_id, now, lease_ms, options.retries_due_by ?? now),
          leased_ms,
        };
      }));
    total += claimed.deliveries.length;
    if (claimed.deliveries.length > 0) {
      const batch: Promise<void> = sendBatch(claimed).then(
        () => void in_flight.delete(batch),
        (error: unknown) => {
          in_flight.delete(batch);
          failures.push(error);
        },
      );
      in_flight.add(batch);
    }
    if (handed !== undefined) {
      if (in_flight.size >= webhook_claims_in_flight_max) await Promise.race(in_flight);
      continue;
    }
    drained = claimed.deliveries.length < webhook_deliveries_per_claim_max;
    if (drained || performance.now() - pass_started >= webhook_send_pass_ms_max) break;
    if (in_flight.size >= webhook_claims_in_flight_max) await Promise.race(in_flight);
  }
  await Promise.all(in_flight);
  if (failures.length > 0) throw failures[0];
  return { claimed: total, drained };
}
