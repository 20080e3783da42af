import { canonicalJsonSha256Hex } from "../sha256.ts";
import type { TransactionRequest } from "./types.ts";

/**
 * A stable digest of what a request asks for, so a replay of the same key can
 * be told apart from a different request reusing it. The key itself is left
 * out; recording time is left out; everything the caller chose is in.
 */
export function transactionContentHash(request: TransactionRequest): string {
  // Keys in canonical (RFC 8785) order, so that hashing takes the native path.
  return sha256Json({
    effective_at: request.effective_at?.toISOString() ?? null,
    entries: request.entries.map((entry) => ({
      account_id: entry.account_id,
      amount_minor: entry.amount_minor.toString(),
      currency: entry.currency,
      side: entry.side,
    })),
    event_id: request.event_id ?? null,
    hold_id: request.hold_id ?? null,
    kind: request.kind,
    memo: request.memo ?? null,
    order_id: request.order_id ?? null,
    policy_hash: request.policy_hash ?? null,
  });
}

/** SHA-256 (hex) of the RFC 8785 canonical form of a JSON value (core/sha256.ts). */
export const sha256Json = canonicalJsonSha256Hex;
