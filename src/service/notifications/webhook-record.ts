import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import { nextAttempt, outcomeOf } from "../../core/notifications/retry-schedule.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type DeliveryOutcome,
  recordDeliveryOutcomes,
  releaseDeliveryLeases,
} from "../../store/webhook-deliveries-sql.ts";
import { disableEndpointRow } from "../../store/webhook-endpoints-sql.ts";
import {
  type FirstAttemptOutcome,
  recordFirstAttempts,
  releaseQueueLeases,
} from "../../store/webhook-queue-sql.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import type { ClaimedDelivery } from "./webhook-hand-off.ts";
import type { HttpAttempt } from "./webhook-http.ts";

// What a sent batch's answers mean, and their record: each delivery done,
// retried later on the schedule, dead-lettered (its owners told), or its
// endpoint disabled at a 410.

type Decision = { kind: "succeeded" } | { kind: "gone" } | { kind: "retry"; at: Date } | { kind: "dead" };

/** Pure: what an attempt's answer means for its delivery. */
function decide(
  delivery: ClaimedDelivery,
  attempt: HttpAttempt,
  now: Date,
  options: { retry_schedule_ms: readonly number[] },
): Decision {
  const outcome =
    attempt.status_code === null
      ? ({ kind: "failed", retry_after_ms: null } as const)
      : outcomeOf(attempt.status_code, attempt.retry_after, now.getTime());
  if (outcome.kind !== "failed") return outcome;
  const next = nextAttempt(options.retry_schedule_ms, delivery.attempts + 1, outcome.retry_after_ms);
  return next.kind === "retry" ? { kind: "retry", at: new Date(now.getTime() + next.delay_ms) } : next;
}

/** Records a round's attempts and moves each delivery on: done, retried later, dead-lettered, or endpoint disabled. */
export async function recordAttempts(
  tx: Queryable,
  tenant_id: string,
  claimed: readonly ClaimedDelivery[],
  attempts: readonly (HttpAttempt | null)[],
  started_at: Date,
  now: Date,
  options: { retry_schedule_ms: readonly number[] },
): Promise<void> {
  assert(claimed.length === attempts.length, "one attempt (or null: not sent) per claimed delivery");
  // Not sent (its endpoint answered 410 earlier in the pass, or its lease ran short while it waited
  // for a slot): the lease goes, the delivery stays as it was.
  const unsent = claimed.filter((_, i) => attempts[i] === null);
  await releaseQueueLeases(
    tx,
    tenant_id,
    unsent.filter((delivery) => delivery.queued).map((delivery) => delivery.id),
  );
  await releaseDeliveryLeases(
    tx,
    tenant_id,
    unsent.filter((delivery) => !delivery.queued).map((delivery) => delivery.id),
  );
  // A queued delivery's first attempt writes its row (decisions §39); the others update theirs.
  const first: FirstAttemptOutcome[] = [];
  const outcomes: DeliveryOutcome[] = [];
  const dead: { delivery: ClaimedDelivery; error: string | null; attempts: number }[] = [];
  const gone: ClaimedDelivery[] = [];
  for (const [i, delivery] of claimed.entries()) {
    const attempt = attempts[i];
    if (attempt === null || attempt === undefined) continue;
    const decision = decide(delivery, attempt, now, options);
    const error =
      decision.kind === "succeeded" ? null : (attempt.error ?? `HTTP ${attempt.status_code ?? "no answer"}`);
    const outcome = {
      id: delivery.id,
      status: decision.kind === "retry" ? "pending" : decision.kind === "succeeded" ? "succeeded" : "dead",
      next_attempt_at: decision.kind === "retry" ? decision.at : null,
      status_code: attempt.status_code,
      latency_ms: attempt.latency_ms,
      error: decision.kind === "gone" ? "410 Gone: endpoint disabled" : error,
      attempt_error: attempt.error,
    } as const;
    if (delivery.queued) {
      assert(delivery.attempts === 0, "a queued delivery has not been attempted");
      first.push(outcome);
    } else
      outcomes.push({
        ...outcome,
        attempts_before: delivery.attempts,
        // A first attempt is recorded on its delivery (decisions §30), later ones as webhook_attempts rows.
        attempt_id: delivery.attempts > 0 ? newId() : null,
      });
    if (decision.kind === "dead") dead.push({ delivery, error, attempts: delivery.attempts + 1 });
    if (decision.kind === "gone") gone.push(delivery);
  }
  if (outcomes.length + first.length === 0) return;
  await recordFirstAttempts(tx, tenant_id, first, started_at, now);
  await recordDeliveryOutcomes(tx, tenant_id, outcomes, started_at, now);
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
  const row = await disableEndpointRow(tx, tenant_id, endpoint_id, reason, now);
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
