import { assert } from "../../core/assert.ts";
import {
  webhook_claims_in_flight_max,
  webhook_deliveries_per_claim_max,
  webhook_lease_ms_default,
  webhook_send_pass_ms_max,
} from "../../core/limits.ts";
import { webhookHeaders } from "../../core/notifications/webhook-signature.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import type { Resolver } from "./address-guard.ts";
import { claimLeasedBatch } from "./webhook-claim.ts";
import type { ClaimedDelivery, HandOff, LeasedBatch } from "./webhook-hand-off.ts";
import { type HttpAttempt, postWebhook, socketsPerOrigin, webhook_pipelining } from "./webhook-http.ts";
import { recordAttempts } from "./webhook-record.ts";

// Sends due deliveries. A pass takes the fan-out's hand-off (webhook-hand-off.ts),
// then claims in batches with a lease (webhook-claim.ts), posts them outside any
// transaction, then records every attempt of a batch in one more (webhook-record.ts). The next
// batch is claimed while earlier ones are on the wire, so the database and the
// receiver work at once. A process that dies between claim and record leaves
// the lease to expire; the delivery is sent again with the same `webhook-id`:
// at least once, never lost.

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

async function sendOne(delivery: ClaimedDelivery, now: Date, options: SenderOptions): Promise<HttpAttempt> {
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

// As many requests in flight to one endpoint as its connections' pipelines hold: a claimed batch goes out at
// once, a few requests to a write, rather than one as each answer comes back (decisions §37).
const endpoint_sends = new KeyedLimiter(socketsPerOrigin(webhook_pipelining) * webhook_pipelining);

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
    const claimed = handed ?? (await claimLeasedBatch(ctx, tenant_id, lease_ms, options.retries_due_by));
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
