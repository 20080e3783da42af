import { randomBytes } from "node:crypto";
import { assert } from "../core/assert.ts";
import { bundle_version, type ProofBundle, record_salt_bytes, toBase64 } from "../verify/index.ts";

// Assembles the proof bundle that src/verify's verifyBundle checks. The HTTP
// endpoint loads the record, its salt, its leaf index, the latest checkpoint
// note (with cosignature lines appended) and an inclusion proof from tiles.
export function buildProofBundle(input: {
  origin: string;
  record: unknown;
  salt: Uint8Array;
  leaf_index: bigint;
  tree_size: bigint;
  inclusion_proof: Uint8Array[];
  checkpoint: string;
}): ProofBundle {
  assert(input.salt.length === record_salt_bytes, `salt must be ${record_salt_bytes} bytes`);
  assert(input.leaf_index < input.tree_size, "leaf index must be inside the tree");
  assert(input.tree_size <= BigInt(Number.MAX_SAFE_INTEGER), "tree size must fit a JSON number");
  return {
    version: bundle_version,
    origin: input.origin,
    record: input.record,
    salt: toBase64(input.salt),
    leaf_index: Number(input.leaf_index),
    tree_size: Number(input.tree_size),
    inclusion_proof: input.inclusion_proof.map(toBase64),
    checkpoint: input.checkpoint,
  };
}

export function newRecordSalt(): Uint8Array {
  return new Uint8Array(randomBytes(record_salt_bytes));
}
