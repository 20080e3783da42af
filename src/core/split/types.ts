// The plain data the split engine produces. A leg is one party's share of one
// rule (and, for line-level rules, one order line), in minor units.
export const roles = ["merchant", "supplier", "referrer", "platform", "tax", "psp", "logistics"] as const;
export type Role = (typeof roles)[number];

export interface Leg {
  readonly party_id: string;
  readonly role: Role;
  readonly amount_minor: bigint;
  readonly rule_id: string;
  readonly line_id?: string;
  /** What the rate or share was applied to, in minor units (the line base, the party's share, ...). */
  readonly basis_minor: bigint;
  readonly rate_bp?: number;
  readonly note: string;
}

export interface Allocation {
  readonly order_id: string;
  readonly currency: string;
  readonly paid_minor: bigint;
  readonly policy_hash: string;
  /** Sorted by rule order, then party id, then role, then line id; Σ amount_minor == paid_minor. */
  readonly legs: readonly Leg[];
  /** Order-level statements in plain words, in the order the engine applied them. */
  readonly explanation: readonly string[];
  /** Audit flags, sorted: e.g. "cap_exceeded", "merchant_negative_absorbed". */
  readonly flags: readonly string[];
}

export interface Reversal {
  readonly refund_id: string;
  readonly order_id: string;
  readonly currency: string;
  /** The amount going back to the buyer; Σ legs == refund_minor. */
  readonly refund_minor: bigint;
  readonly policy_hash: string;
  /** Each leg is an amount taken back from that party. */
  readonly legs: readonly Leg[];
  readonly explanation: readonly string[];
}

export interface AllocateContext {
  /** The SHA-256 (hex) of the policy's canonical JSON, computed once at publish time. */
  readonly policy_hash: string;
  /** The merchant's trailing-30-day GMV, needed only when the commission has tiers. */
  readonly merchant_gmv_30d_minor?: bigint;
  /**
   * Referrers the order names that were not parties of the tenant when it was
   * booked (kept on the order row, so a re-read allocates the same): their
   * share goes to the platform, flagged `referrer_unknown` (docs/splits.md).
   */
  readonly unknown_referrers?: readonly string[];
}
