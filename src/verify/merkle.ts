import { bytesEqual } from "./bytes.ts";
import { hash_size_bytes, nodeHash } from "./hash.ts";

// RFC 9162 §2.1.3.2 and §2.1.4.2, step by step, with BigInt indexes: JS `>>` on
// numbers truncates to 32 bits and would wrap for trees past 2^31 leaves.
// Both functions resolve false for every invalid input; a malformed proof from
// an untrusted server is an expected outcome, not an exception.

// A proof longer than this cannot belong to any tree with fewer than 2^64 leaves.
const proof_nodes_max = 65;
const size_max = (1n << 64n) - 1n;

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === hash_size_bytes;
}

function isSize(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= size_max;
}

function isProof(value: unknown): value is Uint8Array[] {
  return Array.isArray(value) && value.length <= proof_nodes_max && value.every(isHash);
}

export async function verifyInclusion(
  leafHash: Uint8Array,
  index: bigint,
  size: bigint,
  proof: Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  try {
    if (!isHash(leafHash) || !isHash(root) || !isSize(index) || !isSize(size) || !isProof(proof))
      return false;
    if (index >= size) return false;
    let fn = index;
    let sn = size - 1n;
    let r = leafHash;
    for (const p of proof) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && bytesEqual(r, root);
  } catch {
    return false;
  }
}

function isPowerOfTwo(value: bigint): boolean {
  return value > 0n && (value & (value - 1n)) === 0n;
}

export async function verifyConsistency(
  size1: bigint,
  size2: bigint,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): Promise<boolean> {
  try {
    if (!isSize(size1) || !isSize(size2) || !isProof(proof) || !isHash(root1) || !isHash(root2)) return false;
    if (size1 > size2) return false;
    // Edge policy (tlog-spec.md, as the Go reference and the vectors): equal
    // sizes need an empty proof and equal roots; an empty first tree proves nothing.
    if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
    if (size1 === 0n) return false;
    if (proof.length === 0) return false;
    const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
    let fn = size1 - 1n;
    let sn = size2 - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    let fr = path[0]!;
    let sr = path[0]!;
    for (const c of path.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return bytesEqual(fr, root1) && bytesEqual(sr, root2) && sn === 0n;
  } catch {
    return false;
  }
}
