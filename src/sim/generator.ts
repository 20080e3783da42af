import { assert } from "../core/assert.ts";
import { pickWeighted, type Random, seededRandom } from "../core/demo/random.ts";

// The simulation's operations, generated from the seed alone: the same seed
// gives the same sequence whatever the database answers. An operation names
// its targets by draws in [0, 1) ("the order at this fraction of the live
// window"), and the executor resolves a draw against what it has seen, so
// the generator never reads the database and stays a pure function of the seed.

export type Operation =
  | { kind: "book"; count: number; paid_offset_ms: number }
  | { kind: "book_replay"; pick: number }
  | { kind: "book_conflict"; pick: number }
  | { kind: "complete"; pick: number; backdate_ms: number | null }
  | { kind: "complete_unknown"; number: number }
  | { kind: "refund"; pick: number; share: number; chargeback: boolean }
  | { kind: "refund_full"; pick: number }
  | { kind: "refund_replay"; pick: number }
  | { kind: "refund_unknown"; number: number }
  | { kind: "release"; pick: number }
  | { kind: "tick" }
  | { kind: "clock_jump"; delta_ms: number }
  | { kind: "settle" }
  | { kind: "payout"; pick: number; confirm: boolean }
  | { kind: "payout_replay"; pick: number; same: boolean }
  | { kind: "audit_flag"; pick: number }
  | { kind: "audit_decide"; pick: number; decision: "approve" | "reject" | "reverse"; second: boolean };

export type OperationKind = Operation["kind"];

const minute_ms = 60_000;
const hour_ms = 60 * minute_ms;
const day_ms = 24 * hour_ms;
/** Orders per booking call: the mall's batches (the service takes up to 1,000). */
export const orders_per_book_max = 8;

/** Relative weights: bookings dominate, as in a mall; every kind stays frequent enough to matter. */
const weights: readonly [OperationKind, number][] = [
  ["book", 30],
  ["book_replay", 3],
  ["book_conflict", 1],
  ["complete", 14],
  ["complete_unknown", 1],
  ["refund", 7],
  ["refund_full", 3],
  ["refund_replay", 2],
  ["refund_unknown", 1],
  ["release", 3],
  ["tick", 6],
  ["clock_jump", 5],
  ["settle", 1],
  ["payout", 8],
  ["payout_replay", 2],
  ["audit_flag", 2],
  ["audit_decide", 5],
];
const cumulative = weights.reduce<number[]>((sums, [, weight]) => {
  sums.push((sums[sums.length - 1] ?? 0) + weight);
  return sums;
}, []);

/** An endless, reproducible stream of operations for `seed`. */
export function* operations(seed: number): Generator<Operation> {
  const random = seededRandom(seed);
  for (;;) {
    const kind = weights[pickWeighted(cumulative, random.next())]![0];
    yield operationOf(kind, random);
  }
}

function operationOf(kind: OperationKind, random: Random): Operation {
  switch (kind) {
    case "book":
      // One in ten bookings arrives late: paid hours before now (out of order with those already booked).
      return {
        kind,
        count: random.int(1, orders_per_book_max),
        paid_offset_ms: random.chance(0.1) ? random.int(1, 36) * hour_ms : random.int(0, 5) * minute_ms,
      };
    case "complete":
      // Sometimes the mall states when the buyer confirmed: up to three days back.
      return {
        kind,
        pick: random.next(),
        backdate_ms: random.chance(0.2) ? random.int(1, 72) * hour_ms : null,
      };
    case "complete_unknown":
    case "refund_unknown":
      return { kind, number: random.int(1, 1_000_000) };
    case "refund":
      return {
        kind,
        pick: random.next(),
        share: 0.05 + random.next() * 0.6,
        chargeback: random.chance(0.25),
      };
    case "clock_jump":
      return { kind, delta_ms: clockJump(random) };
    case "payout":
      return { kind, pick: random.next(), confirm: random.chance(0.85) };
    case "payout_replay":
      return { kind, pick: random.next(), same: random.chance(0.7) };
    case "audit_decide":
      return {
        kind,
        pick: random.next(),
        decision: random.pick(["approve", "approve", "reject", "reverse"] as const),
        second: random.chance(0.5),
      };
    case "tick":
    case "settle":
      return { kind };
    default:
      return { kind, pick: random.next() };
  }
}

/** Mostly minutes forward; now and then days forward (windows end, cycles fall due); rarely a step back. */
function clockJump(random: Random): number {
  const draw = random.next();
  if (draw < 0.05) return -random.int(1, 10) * minute_ms;
  if (draw < 0.75) return random.int(1, 90) * minute_ms;
  if (draw < 0.95) return random.int(2, 24) * hour_ms;
  const delta_ms = random.int(2, 8) * day_ms;
  assert(delta_ms > 0, "a long jump goes forward");
  return delta_ms;
}

/** A short text naming an operation, for the failure report and the sequence digest. */
export function describeOperation(operation: Operation): string {
  return JSON.stringify(operation);
}
