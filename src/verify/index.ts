// clearsplit/verify: the standalone verifier. It uses only web-standard APIs
// (WebCrypto SHA-256 and Ed25519, TextEncoder, atob/btoa), so it runs unchanged
// in Node ≥ 20 and in browsers, and imports nothing outside this folder.
export {
  type BundleVerification,
  bundle_version,
  type ProofBundle,
  parseBundle,
  verifyBundle,
} from "./bundle.ts";
export { fromBase64Strict, fromHex, toBase64, toHex } from "./bytes.ts";
export { type Checkpoint, parseCheckpoint, verifyCheckpoint } from "./checkpoint.ts";
export { verifyCosignature } from "./cosignature.ts";
export {
  type BundleDisclosure,
  type DisclosedPart,
  party_commitments_max,
  recordCommitments,
  verifyDisclosures,
} from "./disclosure.ts";
export { leafHash, nodeHash, sha256 } from "./hash.ts";
export { canonicalJson } from "./jcs.ts";
export { verifyConsistency, verifyInclusion } from "./merkle.ts";
export { type NoteSignature, type ParsedNote, parseNote, verifyNote } from "./note.ts";
export { record_leaf_prefix, record_salt_bytes, recordLeafInput } from "./record-leaf.ts";
export {
  type StatementManifest,
  type StatementVerification,
  statement_manifest_version,
  statementContentHash,
  statementSignedText,
  verifyStatement,
  verifyStatementText,
} from "./statement.ts";
export { tile_width_max, tilePath } from "./tile-path.ts";
export { VerifyError } from "./verify-error.ts";
export { computeKeyId, isValidKeyName, parseVkey, type VerifierKey } from "./vkey.ts";
