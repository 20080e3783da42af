import { assert } from "../core/assert.ts";

// RFC 9162 PATH and PROOF expressed as the half-open leaf ranges [start, end)
// whose Merkle tree hashes form the proof, in proof order. Like
// transparency-dev/merkle's node IDs, this does no I/O: callers fetch hashes.
export type LeafRange = [start: bigint, end: bigint];

function largestPowerOfTwoBelow(n: bigint): bigint {
  assert(n >= 2n, `n ${n} must be at least 2`);
  let k = 1n;
  while (k * 2n < n) k *= 2n;
  return k;
}

export function inclusionRanges(index: bigint, size: bigint): LeafRange[] {
  assert(index >= 0n && index < size, `index ${index} out of bounds for tree size ${size}`);
  const out: LeafRange[] = [];
  let start = 0n;
  let end = size;
  // Walk root → leaf; proof order is leaf → root, so reverse at the end.
  while (end - start > 1n) {
    const k = largestPowerOfTwoBelow(end - start);
    if (index < start + k) {
      out.push([start + k, end]);
      end = start + k;
    } else {
      out.push([start, start + k]);
      start += k;
    }
  }
  return out.reverse();
}

export function consistencyRanges(size1: bigint, size2: bigint): LeafRange[] {
  assert(size1 > 0n && size1 <= size2, `size1 ${size1} must be in 1..${size2}`);
  const out: LeafRange[] = [];
  let m = size1;
  let start = 0n;
  let end = size2;
  let complete = true;
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      out.push([start + k, end]);
      end = start + k;
    } else {
      out.push([start, start + k]);
      m -= k;
      start += k;
      complete = false;
    }
  }
  if (!complete) out.push([start, end]);
  return out.reverse();
}

// Decomposes a range into perfect subtrees (height, index), largest first.
// Ranges from PATH/PROOF start at a multiple of a power of two ≥ their length,
// so the greedy split matches the RFC's left-heavy recursion.
export function perfectNodes(range: LeafRange): { height: number; index: bigint }[] {
  let [start, end] = range;
  assert(start < end, `empty range ${start}..${end}`);
  const out: { height: number; index: bigint }[] = [];
  while (start < end) {
    let height = 0;
    while ((start & ((1n << BigInt(height + 1)) - 1n)) === 0n && start + (1n << BigInt(height + 1)) <= end)
      height++;
    out.push({ height, index: start >> BigInt(height) });
    start += 1n << BigInt(height);
  }
  return out;
}
