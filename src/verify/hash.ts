import { bufferSource, concatBytes } from "./bytes.ts";

// RFC 9162 §2.1.1 domain separation: leaves and interior nodes hash with
// different prefixes so a leaf can never be passed off as a node.
const leaf_prefix = new Uint8Array([0x00]);
const node_prefix = new Uint8Array([0x01]);

export const hash_size_bytes = 32;

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bufferSource(data));
  return new Uint8Array(digest);
}

export function leafHash(data: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(leaf_prefix, data));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(node_prefix, left, right));
}
