import { assert } from "../core/assert.ts";
import { empty_tree_root, hashChildren } from "./tree-hash.ts";

// The RFC 9162 §2.1 definitions (MTH, PATH, PROOF) transcribed literally over
// an in-memory list of leaf hashes. It is slow by design and exists to check
// the tile-based tree, which shares none of its code.
export class ReferenceTree {
  readonly #leaves: Uint8Array[] = [];
  readonly #memo = new Map<string, Uint8Array>();

  get size(): bigint {
    return BigInt(this.#leaves.length);
  }

  append(leafHash: Uint8Array): void {
    assert(leafHash.length === 32, "leaf hash must be 32 bytes");
    this.#leaves.push(leafHash);
  }

  root(size: bigint = this.size): Uint8Array {
    assert(size >= 0n && size <= this.size, `size ${size} out of range for tree of ${this.size}`);
    return size === 0n ? empty_tree_root : this.#mth(0, Number(size));
  }

  // PATH(m, D[0:size]).
  inclusionProof(index: bigint, size: bigint): Uint8Array[] {
    assert(size <= this.size, `size ${size} beyond tree of ${this.size}`);
    assert(index >= 0n && index < size, `index ${index} out of bounds for tree size ${size}`);
    return this.#path(Number(index), 0, Number(size));
  }

  // PROOF(m, D[0:size2]) for 0 < size1 < size2; empty when the sizes are equal.
  consistencyProof(size1: bigint, size2: bigint): Uint8Array[] {
    assert(size2 <= this.size, `size ${size2} beyond tree of ${this.size}`);
    assert(size1 > 0n && size1 <= size2, `size1 ${size1} must be in 1..${size2}`);
    return size1 === size2 ? [] : this.#subproof(Number(size1), 0, Number(size2), true);
  }

  #mth(start: number, end: number): Uint8Array {
    if (end - start === 1) return this.#leaves[start]!;
    const key = `${start}:${end}`;
    const cached = this.#memo.get(key);
    if (cached) return cached;
    const k = largestPowerOfTwoBelow(end - start);
    const hash = hashChildren(this.#mth(start, start + k), this.#mth(start + k, end));
    this.#memo.set(key, hash);
    return hash;
  }

  #path(m: number, start: number, end: number): Uint8Array[] {
    if (end - start === 1) return [];
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) return [...this.#path(m, start, start + k), this.#mth(start + k, end)];
    return [...this.#path(m - k, start + k, end), this.#mth(start, start + k)];
  }

  #subproof(m: number, start: number, end: number, complete: boolean): Uint8Array[] {
    const n = end - start;
    if (m === n) return complete ? [] : [this.#mth(start, end)];
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) return [...this.#subproof(m, start, start + k, complete), this.#mth(start + k, end)];
    return [...this.#subproof(m - k, start + k, end, false), this.#mth(start, start + k)];
  }
}

// The k of RFC 9162: the largest power of two strictly smaller than n (n ≥ 2).
function largestPowerOfTwoBelow(n: number): number {
  assert(n >= 2, `n ${n} must be at least 2`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
