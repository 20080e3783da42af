import { createHash } from "node:crypto";

// The log's hot path hashes with node:crypto, synchronously; the verifier uses
// WebCrypto. Tests check both against each other and the RFC vectors.
export const hash_bytes = 32;

const leaf_prefix = new Uint8Array([0x00]);
const node_prefix = new Uint8Array([0x01]);

export function sha256Sync(data: Uint8Array): Uint8Array {
  return digestOf(createHash("sha256").update(data));
}

export function hashLeaf(data: Uint8Array): Uint8Array {
  return digestOf(createHash("sha256").update(leaf_prefix).update(data));
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return digestOf(createHash("sha256").update(node_prefix).update(left).update(right));
}

// A Buffer from digest() may view Node's shared pool; callers keep hashes for a
// long time, so hand back a plain Uint8Array over its own memory.
function digestOf(hash: ReturnType<typeof createHash>): Uint8Array {
  const digest = hash.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

export const empty_tree_root = sha256Sync(new Uint8Array(0));
