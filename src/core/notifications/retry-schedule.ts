import { assert } from "../assert.ts";
import { retry_after_ms_max, retry_schedule_length_max } from "../limits.ts";

// When to try a failed webhook delivery again: the Standard Webhooks schedule
// (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after
// the previous attempt). After the last delay's attempt fails, the delivery is
// dead-lettered. The dispatcher takes the schedule as an option, so tests run
// it in milliseconds against a clock they move.

export const standard_retry_schedule_ms: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

export type AttemptOutcome =
  | { kind: "succeeded" }
  /** 410 Gone: the receiver says the endpoint is no more; disable it at once. */
  | { kind: "gone" }
  | { kind: "failed"; retry_after_ms: number | null };

/** What follows a failed attempt number `attempt` (1-based): when to retry, or give up. */
export function nextAttempt(
  schedule_ms: readonly number[],
  attempt: number,
  retry_after_ms: number | null,
): { kind: "retry"; delay_ms: number } | { kind: "dead" } {
  assert(Number.isInteger(attempt) && attempt >= 1, "attempt numbers start at 1");
  assert(schedule_ms.length <= retry_schedule_length_max, "retry schedule too long");
  const scheduled = schedule_ms[attempt - 1];
  if (scheduled === undefined) return { kind: "dead" };
  // Retry-After can ask for longer, never for sooner than the schedule.
  const delay_ms =
    retry_after_ms === null ? scheduled : Math.min(Math.max(scheduled, retry_after_ms), retry_after_ms_max);
  return { kind: "retry", delay_ms };
}

/** The outcome of an HTTP status: 2xx succeeded, 410 gone, anything else failed. */
export function outcomeOf(status_code: number, retry_after: string | null, now_ms: number): AttemptOutcome {
  if (status_code >= 200 && status_code <= 299) return { kind: "succeeded" };
  if (status_code === 410) return { kind: "gone" };
  const honoured = status_code === 429 || status_code === 503;
  return { kind: "failed", retry_after_ms: honoured ? retryAfterMs(retry_after, now_ms) : null };
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function retryAfterMs(value: string | null, now_ms: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Math.min(Number(text) * 1_000, retry_after_ms_max);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - now_ms, 0), retry_after_ms_max);
}

/** Parses `CLEARSPLIT_WEBHOOK_RETRY_SCHEDULE_MS` ("5000,300000,…"). */
export function parseRetrySchedule(text: string): number[] {
  const items = text.split(",").map((item) => item.trim());
  assert(items.length >= 1 && items.length <= retry_schedule_length_max, "retry schedule has 1 to 20 delays");
  return items.map((item) => {
    assert(/^\d{1,10}$/.test(item), `retry delay ${JSON.stringify(item)} is not milliseconds`);
    return Number(item);
  });
}
