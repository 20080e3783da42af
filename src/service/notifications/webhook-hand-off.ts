import { assert } from "../../core/assert.ts";
import { webhook_deliveries_per_claim_max } from "../../core/limits.ts";

// What the sender sends: deliveries leased to this process, either handed
// over by the fan-out of the same process as its transaction commits
// (decisions §30) or claimed from the table (webhook-claim.ts).

/** Fanned-out deliveries waiting for the sender, at most, before the fan-out waits (4 claims' worth). */
export const handed_deliveries_max = 4 * webhook_deliveries_per_claim_max;

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
  /** In webhook_queue, its first attempt not recorded: the record writes its delivery row (decisions §39). */
  queued: boolean;
};

/** Deliveries leased at `leased_ms` (performance.now()), sent together and recorded in one transaction. */
export type LeasedBatch = { deliveries: ClaimedDelivery[]; leased_ms: number };

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
  push(deliveries: readonly ClaimedDelivery[], leased_ms: number): void {
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
