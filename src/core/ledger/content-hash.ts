import { createHash } from "node:crypto";
import { canonicalJson } from "../jcs.ts";
import type { TransactionRequest } from "./types.ts";

/**
 * A stable digest of what a request asks for, so a replay of the same key can
 * be told apart from a different request reusing it. The key itself is left
 * out; recording time is left out; everything the caller chose is in.
 */
export function transactionContentHash(request: TransactionRequest): string {
  return sha256Json({
    kind: request.kind,
    effective_at: request.effective_at?.toISOString() ?? null,
    entries: request.entries.map((entry) => ({
      account_id: entry.account_id,
      side: entry.side,
      amount_minor: entry.amount_minor.toString(),
      currency: entry.currency,
    })),
    order_id: request.order_id ?? null,
    event_id: request.event_id ?? null,
    policy_hash: request.policy_hash ?? null,
    hold_id: request.hold_id ?? null,
    memo: request.memo ?? null,
  });
}

/** SHA-256 (hex) of the RFC 8785 canonical form of a JSON value. */
export function sha256Json(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}
