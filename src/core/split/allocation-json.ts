import { assert } from "../assert.ts";
import { amount_minor_max } from "../money.ts";
import type { Allocation, Leg, Reversal } from "./types.ts";

// The JSON form of allocations and reversals. Amounts are JSON integers in
// minor units: every amount is at most paid_minor, which the API caps at
// 2^53 − 1, so a JSON number carries it exactly. Keys come in a fixed order and
// absent optional fields are left out, so JSON.stringify of the result is
// byte-identical for the same allocation.
export interface LegJson {
  party_id: string;
  role: string;
  amount_minor: number;
  rule_id: string;
  line_id?: string;
  basis_minor: number;
  rate_bp?: number;
  note: string;
}

export interface AllocationJson {
  order_id: string;
  currency: string;
  paid_minor: number;
  policy_hash: string;
  legs: LegJson[];
  explanation: string[];
  flags: string[];
}

export interface ReversalJson {
  refund_id: string;
  order_id: string;
  currency: string;
  refund_minor: number;
  policy_hash: string;
  legs: LegJson[];
  explanation: string[];
}

export function minorToJson(value: bigint): number {
  assert(value >= 0n && value <= amount_minor_max, "a JSON amount is a safe integer");
  return Number(value);
}

export function legToJson(leg: Leg): LegJson {
  return {
    party_id: leg.party_id,
    role: leg.role,
    amount_minor: minorToJson(leg.amount_minor),
    rule_id: leg.rule_id,
    ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
    basis_minor: minorToJson(leg.basis_minor),
    ...(leg.rate_bp === undefined ? {} : { rate_bp: leg.rate_bp }),
    note: leg.note,
  };
}

export function allocationToJson(allocation: Allocation): AllocationJson {
  return {
    order_id: allocation.order_id,
    currency: allocation.currency,
    paid_minor: minorToJson(allocation.paid_minor),
    policy_hash: allocation.policy_hash,
    legs: allocation.legs.map(legToJson),
    explanation: [...allocation.explanation],
    flags: [...allocation.flags],
  };
}

export function reversalToJson(reversal: Reversal): ReversalJson {
  return {
    refund_id: reversal.refund_id,
    order_id: reversal.order_id,
    currency: reversal.currency,
    refund_minor: minorToJson(reversal.refund_minor),
    policy_hash: reversal.policy_hash,
    legs: reversal.legs.map(legToJson),
    explanation: [...reversal.explanation],
  };
}

function minorFromJson(value: number, field: string): bigint {
  assert(Number.isSafeInteger(value) && value >= 0, `${field} is a stored non-negative safe integer`);
  return BigInt(value);
}

export function legFromJson(json: LegJson): Leg {
  return {
    party_id: json.party_id,
    role: json.role as Leg["role"],
    amount_minor: minorFromJson(json.amount_minor, "amount_minor"),
    rule_id: json.rule_id,
    ...(json.line_id === undefined ? {} : { line_id: json.line_id }),
    basis_minor: minorFromJson(json.basis_minor, "basis_minor"),
    ...(json.rate_bp === undefined ? {} : { rate_bp: json.rate_bp }),
    note: json.note,
  };
}

/** Reads back an allocation this module wrote (from our own storage, not from callers). */
export function allocationFromJson(json: AllocationJson): Allocation {
  return {
    order_id: json.order_id,
    currency: json.currency,
    paid_minor: minorFromJson(json.paid_minor, "paid_minor"),
    policy_hash: json.policy_hash,
    legs: json.legs.map(legFromJson),
    explanation: [...json.explanation],
    flags: [...json.flags],
  };
}

export function reversalFromJson(json: ReversalJson): Reversal {
  return {
    refund_id: json.refund_id,
    order_id: json.order_id,
    currency: json.currency,
    refund_minor: minorFromJson(json.refund_minor, "refund_minor"),
    policy_hash: json.policy_hash,
    legs: json.legs.map(legFromJson),
    explanation: [...json.explanation],
  };
}
