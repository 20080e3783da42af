// The log's pure core: tiles, proofs, signing and the witness decision. The
// database-backed sequencer and HTTP endpoints build on these and add only I/O.
export { type AppendResult, appendLeaves, perfectRoot, rootFromEdge, type TreeEdge } from "./appender.ts";
export { buildProofBundle, newRecordSalt } from "./bundle-builder.ts";
export { formatCheckpoint, signCheckpoint } from "./checkpoint-format.ts";
export { addSignatureLines, cosignatureLine } from "./cosigner.ts";
export { MemoryTiledLog } from "./memory-log.ts";
export {
  generateSigner,
  keyIdSync,
  type NoteSigner,
  signature_type_cosignature_v1,
  signature_type_ed25519,
  signatureLine,
  signerFromPrivateKey,
  signNote,
} from "./note-signer.ts";
export { consistencyRanges, inclusionRanges, type LeafRange, perfectNodes } from "./proof-ranges.ts";
export { ReferenceTree } from "./reference-tree.ts";
export {
  levelNodeCount,
  nodeTileLocation,
  partialTilesAt,
  type Tile,
  type TileId,
  tile_height,
  tile_width_max,
  tileCountsAt,
  tileWidthAt,
} from "./tile-math.ts";
export {
  consistencyProofFromTiles,
  inclusionProofFromTiles,
  rootFromTiles,
  type TileFetcher,
} from "./tile-proofs.ts";
export { empty_tree_root, hashChildren, hashLeaf, sha256Sync } from "./tree-hash.ts";
export {
  type WitnessOutcome,
  type WitnessRefusal,
  type WitnessRequest,
  type WitnessState,
  witnessCheckpoint,
} from "./witness.ts";
