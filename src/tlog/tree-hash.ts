import { hash } from "node:crypto";

// The log's hot path hashes with node:crypto's one-shot hash(), synchronously
// (about twice as fast as createHash per 65-byte node); the verifier uses
// WebCrypto. Tests check both against each other and the RFC vectors.
export const hash_bytes = 32;

// One scratch buffer for interior nodes: hash() is synchronous, so no caller
// can observe it between the copy and the digest.
const node_input = new Uint8Array(1 + 2 * hash_bytes);
node_input[0] = 0x01;

function digest(data: Uint8Array): Uint8Array {
  const out = hash("sha256", data, "buffer");
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function sha256Sync(data: Uint8Array): Uint8Array {
  return digest(data);
}

export function hashLeaf(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input.set(data, 1);
  return digest(input);
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  node_input.set(left, 1);
  node_input.set(right, 1 + hash_bytes);
  return digest(node_input);
}

export const empty_tree_root = sha256Sync(new Uint8Array(0));
