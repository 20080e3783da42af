import { assert } from "../assert.ts";

// A small seeded generator for demo and benchmark data (mulberry32). It is not
// for secrets: its only job is that the same seed gives the same marketplace.
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): Random {
  assert(Number.isSafeInteger(seed), "the seed is a safe integer");
  // Fold the high bits in so that seeds above 2^32 still differ.
  let state = (seed ^ Math.floor(seed / 2 ** 32) ^ 0x9e3779b9) >>> 0;
  function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return {
    next,
    int(min, max) {
      assert(min <= max, "int: min ≤ max");
      return min + Math.floor(next() * (max - min + 1));
    },
    chance(p) {
      return next() < p;
    },
    pick(items) {
      assert(items.length > 0, "pick: a non-empty list");
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** Index into cumulative weights (ascending, last = total) for a uniform draw. */
export function pickWeighted(cumulative: readonly number[], draw: number): number {
  assert(cumulative.length > 0, "pickWeighted: weights");
  const target = draw * cumulative[cumulative.length - 1]!;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle]! > target) high = middle;
    else low = middle + 1;
  }
  return low;
}
