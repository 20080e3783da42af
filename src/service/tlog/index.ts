// The database half of the transparency log: keys, the sequencer, witnesses,
// record rebuilding, proofs and the tamper audit.
export { firstUnsequenced } from "../../store/log-leaves-sql.ts";
export { type Sequencer, type SequencerOptions, startSequencer } from "./log-runner.ts";
export { checkpointLagMs, type SequenceOptions, type SequenceResult, sequenceOnce } from "./log-sequencer.ts";
export {
  assertTenant,
  type ConsistencyProof,
  consistencyProof,
  listCheckpoints,
  type ProofScope,
  proofBundle,
  readEntriesTile,
  readTile,
  servedCheckpoint,
} from "./proofs.ts";
export { rebuildRecord, rebuildRecords } from "./record-rebuild.ts";
export {
  ensureLogKeys,
  type LogKeyOptions,
  LogKeyStore,
  logKeyOptionsFromEnv,
  logVkey,
} from "./signing-keys.ts";
export { type PruneResult, pruneTiles, tile_prune_rows_max, tileStorage } from "./tile-pruning.ts";
export { requestCosignatures, type WitnessConfig, witnessesFromEnv } from "./witnesses.ts";
