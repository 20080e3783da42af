import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import { nextAttempt, outcomeOf } from "../../core/notifications/retry-schedule.ts";
import { webhookHeaders } from "../../core/notifications/webhook-signature.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import type { Resolver } from "./address-guard.ts";
import { leadTenant } from "./stream-batch.ts";
import { type HttpAttempt, postWebhook } from "./webhook-http.ts";

// Sends due deliveries. A round claims them with a lease under the tenant's
// dispatcher lock (one short transaction), posts them outside any transaction,
// then records every attempt in one more. A process that dies between the two
// leaves the lease to expire; the delivery is sent again with the same
// `webhook-id`: at least once, never lost.

export const claim_max = 256;
export const sends_concurrent_max = 32;
export const lease_ms_default = 60_000;

export interface SenderOptions {
  retry_schedule_ms: readonly number[];
  allow_private: boolean;
  lease_ms?: number;
  timeout_ms?: number;
  /** How endpoint host names are resolved at delivery (default: the system's resolver). */
  resolver?: Resolver;
}

type Claimed = {
  id: string;
  endpoint_id: string;
  message_id: string;
  type: string;
  body: string;
  attempts: number;
  party_ids: string[];
  url: string;
  party_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
};

async function claimDue(tx: Queryable, tenant_id: string, now: Date, lease_ms: number): Promise<Claimed[]> {
  if (!(await leadTenant(tx, tenant_id))) return [];
  // One statement: pick the due rows (skipping any another transaction holds), lease them, return them.
  return tx.query<Claimed>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id
        WHERE d.tenant_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2
          AND (d.lease_until IS NULL OR d.lease_until <= $2) AND w.status = 'enabled'
        ORDER BY d.next_attempt_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED),
     leased AS (
       UPDATE webhook_deliveries d SET lease_until = $4 FROM due WHERE d.tenant_id = $1 AND d.id = due.id
       RETURNING d.id, d.endpoint_id, d.message_id, d.type, d.body, d.attempts, d.party_ids, d.next_attempt_at)
     SELECT l.id::text AS id, l.endpoint_id::text AS endpoint_id, l.message_id, l.type, l.body, l.attempts, l.party_ids,
            w.url, w.party_id, w.secret, w.previous_secret, w.previous_secret_expires_at
       FROM leased l JOIN webhook_endpoints w ON w.tenant_id = $1 AND w.id = l.endpoint_id
      ORDER BY l.next_attempt_at, l.id`,
    [tenant_id, now, claim_max, new Date(now.getTime() + lease_ms)],
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

async function inPool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

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
  attempts: readonly HttpAttempt[],
  started_at: Date,
  now: Date,
  options: SenderOptions,
): Promise<void> {
  assert(claimed.length === attempts.length, "one attempt per claimed delivery");
  const ids: string[] = [];
  const statuses: string[] = [];
  const next_at: (Date | null)[] = [];
  const codes: (number | null)[] = [];
  const errors: (string | null)[] = [];
  const dead: { delivery: Claimed; error: string | null; attempts: number }[] = [];
  const gone: Claimed[] = [];
  for (let i = 0; i < claimed.length; i++) {
    const delivery = claimed[i]!;
    const attempt = attempts[i]!;
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
  // The attempts and the deliveries' new states in one round trip.
  await tx.query(
    `WITH attempts AS (
       INSERT INTO webhook_attempts (tenant_id, id, delivery_id, attempt, started_at, latency_ms, status_code, error)
       SELECT $1, a.id, a.delivery_id, a.attempt, $8, a.latency_ms, a.status_code, a.attempt_error
         FROM unnest($9::uuid[], $3::uuid[], $10::int4[], $11::int4[], $6::int4[], $12::text[])
           AS a(id, delivery_id, attempt, latency_ms, status_code, attempt_error)
       RETURNING 1)
     UPDATE webhook_deliveries d SET status = u.status, attempts = d.attempts + 1, lease_until = NULL,
            next_attempt_at = coalesce(u.next_at, d.next_attempt_at), last_status_code = u.code, last_error = u.error,
            finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE $2::timestamptz END
       FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::int4[], $7::text[]) AS u(id, status, next_at, code, error)
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
      claimed.map(() => newId()),
      claimed.map((delivery) => delivery.attempts + 1),
      attempts.map((attempt) => attempt.latency_ms),
      attempts.map((attempt) => attempt.error),
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

/** One sending round for a tenant: returns how many deliveries it attempted. */
export async function sendDueWebhooks(
  ctx: ServiceContext,
  tenant_id: string,
  options: SenderOptions,
): Promise<number> {
  const lease_ms = options.lease_ms ?? lease_ms_default;
  assert(lease_ms >= 1, "lease must be positive");
  const claimed = await inTransaction(ctx.db, (tx) => claimDue(tx, tenant_id, ctx.now(), lease_ms));
  if (claimed.length === 0) return 0;
  const started_at = ctx.now();
  const attempts = await inPool(claimed, sends_concurrent_max, (delivery) =>
    sendOne(delivery, started_at, options),
  );
  const now = ctx.now();
  await inTransaction(ctx.db, (tx) =>
    recordAttempts(tx, tenant_id, claimed, attempts, started_at, now, options),
  );
  return claimed.length;
}
