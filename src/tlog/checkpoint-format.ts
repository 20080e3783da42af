import { assert } from "../core/assert.ts";
import { toBase64 } from "../verify/index.ts";
import { type NoteSigner, signNote } from "./note-signer.ts";
import { hash_bytes } from "./tree-hash.ts";

// C2SP tlog-checkpoint v1.0.0 body: origin, decimal size, base64 root. We add
// no extension lines (the spec does not recommend them).
export function formatCheckpoint(origin: string, size: bigint, rootHash: Uint8Array): string {
  assert(origin.length > 0 && !origin.includes("\n"), "origin must be one non-empty line");
  assert(size >= 0n, "size must be non-negative");
  assert(rootHash.length === hash_bytes, "root hash must be 32 bytes");
  return `${origin}\n${size}\n${toBase64(rootHash)}\n`;
}

export function signCheckpoint(
  origin: string,
  size: bigint,
  rootHash: Uint8Array,
  logSigner: NoteSigner,
): string {
  return signNote(formatCheckpoint(origin, size, rootHash), [logSigner]);
}
