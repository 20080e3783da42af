import { createHmac, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";

// The one module of src/core that imports Node: SHA-256, the only hash the
// domain needs (policy ids, content hashes, request fingerprints). The
// layering test (src/layering.test.ts) allows `node:` imports in core here and
// nowhere else, so the rest of the domain stays runnable in a browser.

// One-shot `hash()` rather than a createHash() object: booking hashes several
// small texts per order, and the one-shot form costs about a quarter as much.

export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}

export function sha256Bytes(...parts: readonly (string | Uint8Array)[]): Buffer {
  const data =
    parts.length === 1
      ? parts[0]!
      : Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part)));
  return hash("sha256", data, "buffer") as unknown as Buffer;
}

/** SHA-256 of the RFC 8785 canonical JSON of `value`, as lowercase hex: the one spelling of "hash this JSON". */
export function canonicalJsonSha256Hex(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** SHA-256(salt ‖ JCS(value)): a salted commitment to JSON (log records and their disclosed parts). */
export function saltedCanonicalJsonSha256(salt: Uint8Array, value: unknown): Buffer {
  return sha256Bytes(salt, canonicalJson(value));
}

// The HMAC and randomness the domain needs (Standard Webhooks signatures and
// their secrets) live here for the same reason: one Node import in core.

export function hmacSha256(key: Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** The same HMAC as base64 text, without the Buffer between. */
export function hmacSha256Base64(key: Uint8Array, data: string): string {
  return createHmac("sha256", key).update(data).digest("base64");
}

export function secureRandomBytes(count: number): Buffer {
  return randomBytes(count);
}

/** Equal bytes, compared in constant time; false for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
