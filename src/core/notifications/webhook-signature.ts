import { assert } from "../assert.ts";
import { constantTimeEqual, hmacSha256Base64, secureRandomBytes } from "../sha256.ts";

// Standard Webhooks signatures (https://www.standardwebhooks.com): the signed
// content is `${webhook-id}.${webhook-timestamp}.${body}`, the key is the
// base64-decoded part of the `whsec_` secret, and the header carries
// `v1,<base64 HMAC-SHA256>`, several space-separated while a secret rotates.

export const secret_prefix = "whsec_";
/** 24 random bytes, within the specification's 24 to 64. */
export const secret_bytes = 24;
const secret_pattern = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

export function newWebhookSecret(): string {
  return `${secret_prefix}${secureRandomBytes(secret_bytes).toString("base64")}`;
}

export function isWebhookSecret(secret: string): boolean {
  return secret_pattern.test(secret);
}

/** Decoded keys by secret: every delivery to an endpoint signs with the same one or two. */
const keys = new Map<string, Buffer>();
const keys_cached_max = 1_000;

function keyOf(secret: string): Buffer {
  const known = keys.get(secret);
  if (known !== undefined) return known;
  assert(secret.startsWith(secret_prefix), "a webhook secret starts with whsec_");
  const key = Buffer.from(secret.slice(secret_prefix.length), "base64");
  assert(key.length >= 16 && key.length <= 64, `a webhook secret has ${key.length} bytes`);
  if (keys.size >= keys_cached_max) keys.clear();
  keys.set(secret, key);
  return key;
}

/** One `v1,<base64>` signature of a message. */
export function signWebhook(secret: string, message_id: string, timestamp_s: number, body: string): string {
  assert(Number.isSafeInteger(timestamp_s) && timestamp_s > 0, "timestamp is unix seconds");
  assert(message_id.length > 0 && !message_id.includes("."), "a message id has no dot");
  return `v1,${hmacSha256Base64(keyOf(secret), `${message_id}.${timestamp_s}.${body}`)}`;
}

/** The three headers of one attempt, signed with every secret in force (current first). */
export function webhookHeaders(
  secrets: readonly string[],
  message_id: string,
  timestamp_s: number,
  body: string,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  assert(secrets.length >= 1 && secrets.length <= 2, "one or two secrets sign");
  return {
    "webhook-id": message_id,
    "webhook-timestamp": String(timestamp_s),
    "webhook-signature": secrets
      .map((secret) => signWebhook(secret, message_id, timestamp_s, body))
      .join(" "),
  };
}

/** Whether any `v1` signature in the header matches (what a receiver does; used by tests and docs). */
export function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
): boolean {
  if (!/^\d{1,12}$/.test(headers.timestamp)) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, Number(headers.timestamp), body));
  return headers.signature.split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return constantTimeEqual(given, expected);
  });
}
