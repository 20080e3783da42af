import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { nextAttempt, outcomeOf, retryAfterMs, standard_retry_schedule_ms } from "./retry-schedule.ts";
import { newWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from "./webhook-signature.ts";

// The signature is exactly Standard Webhooks': the specification's published
// test vector reproduces, and the specification's own library accepts what we
// sign, with one secret and with two during a rotation.

const vector = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp_s: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("Standard Webhooks signature", () => {
  it("reproduces the specification's published test vector", () => {
    expect(signWebhook(vector.secret, vector.id, vector.timestamp_s, vector.body)).toBe(vector.signature);
  });

  it("fails the vector when any input changes by one character", () => {
    expect(signWebhook(vector.secret, vector.id, vector.timestamp_s + 1, vector.body)).not.toBe(
      vector.signature,
    );
    expect(signWebhook(vector.secret, `${vector.id}x`, vector.timestamp_s, vector.body)).not.toBe(
      vector.signature,
    );
    expect(signWebhook(vector.secret, vector.id, vector.timestamp_s, `${vector.body} `)).not.toBe(
      vector.signature,
    );
  });

  it("is accepted by the standardwebhooks library with one secret and with both during a rotation", () => {
    const old_secret = newWebhookSecret();
    const new_secret = newWebhookSecret();
    const now_s = Math.floor(Date.now() / 1_000);
    const body = JSON.stringify({ type: "order.booked", data: { order_id: "中文-1" } });
    const single = webhookHeaders([new_secret], "evt-1", now_s, body);
    expect(new Webhook(new_secret).verify(body, single)).toMatchObject({ type: "order.booked" });
    expect(() => new Webhook(old_secret).verify(body, single)).toThrow();
    const both = webhookHeaders([new_secret, old_secret], "evt-1", now_s, body);
    expect(both["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(new_secret).verify(body, both)).toBeTruthy();
    expect(new Webhook(old_secret).verify(body, both)).toBeTruthy();
    expect(
      verifyWebhook(
        old_secret,
        { id: "evt-1", timestamp: String(now_s), signature: both["webhook-signature"] },
        body,
      ),
    ).toBe(true);
  });

  it("makes whsec_ secrets of 24 random bytes", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(24);
    expect(newWebhookSecret()).not.toBe(secret);
  });
});

describe("retry schedule", () => {
  it("follows the Standard Webhooks schedule, then dead-letters", () => {
    const delays = standard_retry_schedule_ms.map((_, i) =>
      nextAttempt(standard_retry_schedule_ms, i + 1, null),
    );
    expect(delays.map((next) => (next.kind === "retry" ? next.delay_ms : -1))).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
    ]);
    expect(nextAttempt(standard_retry_schedule_ms, 10, null)).toEqual({ kind: "dead" });
  });

  it("reads Retry-After as seconds or a date, only on 429 and 503, never shorter than the schedule", () => {
    const now = Date.parse("2026-11-30T00:00:00Z");
    expect(outcomeOf(204, null, now)).toEqual({ kind: "succeeded" });
    expect(outcomeOf(410, null, now)).toEqual({ kind: "gone" });
    expect(outcomeOf(429, "120", now)).toEqual({ kind: "failed", retry_after_ms: 120_000 });
    expect(outcomeOf(503, "Mon, 30 Nov 2026 00:10:00 GMT", now)).toEqual({
      kind: "failed",
      retry_after_ms: 600_000,
    });
    expect(outcomeOf(500, "120", now)).toEqual({ kind: "failed", retry_after_ms: null });
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(nextAttempt(standard_retry_schedule_ms, 1, 120_000)).toEqual({ kind: "retry", delay_ms: 120_000 });
    expect(nextAttempt(standard_retry_schedule_ms, 2, 1_000)).toEqual({ kind: "retry", delay_ms: 300_000 });
  });
});
