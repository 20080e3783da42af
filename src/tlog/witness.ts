import {
  type Checkpoint,
  parseNote,
  VerifyError,
  verifyCheckpoint,
  verifyConsistency,
} from "../verify/index.ts";
import { bytesEqualConstantTime } from "./bytes-equal.ts";
import { cosignatureLine } from "./cosigner.ts";
import type { NoteSigner } from "./note-signer.ts";

// The witness's decision, kept free of I/O: state in, state out. The caller
// must persist the returned state BEFORE releasing the cosignature, so a
// crash can never let the witness cosign two branches.

export interface WitnessState {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
}

export type WitnessRefusal =
  | "checkpoint_malformed"
  | "checkpoint_bad_signature"
  | "origin_mismatch"
  | "old_size_mismatch"
  | "size_smaller"
  | "fork_same_size"
  | "consistency_invalid";

export type WitnessOutcome =
  | { ok: true; cosignature: string; state: WitnessState }
  | { ok: false; code: WitnessRefusal; reason: string; size?: bigint };

export interface WitnessRequest {
  state: WitnessState | null; // the last checkpoint this witness cosigned
  note: string; // the new signed checkpoint
  proof: Uint8Array[]; // consistency proof from state.size to the new size
  oldSize?: bigint; // the size the log believes we are at (tlog-witness `old`)
  origin: string;
  logKeys: string[];
  witness: NoteSigner;
  now_seconds: bigint;
}

async function openCheckpoint(request: WitnessRequest): Promise<Checkpoint | WitnessOutcome> {
  try {
    return await verifyCheckpoint(request.note, request.logKeys);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const bad_signature = error instanceof VerifyError && /signature|vkey/.test(error.code);
    return { ok: false, code: bad_signature ? "checkpoint_bad_signature" : "checkpoint_malformed", reason };
  }
}

async function checkExtension(state: WitnessState | null, next: Checkpoint, proof: Uint8Array[]) {
  if (state === null || state.size === 0n) return undefined;
  if (next.size < state.size) {
    return {
      code: "size_smaller",
      reason: `size ${next.size} is smaller than cosigned size ${state.size}`,
    } as const;
  }
  if (next.size === state.size) {
    if (bytesEqualConstantTime(next.rootHash, state.rootHash) && proof.length === 0) return undefined;
    return {
      code: "fork_same_size",
      reason: `a different root at cosigned size ${state.size}: the log forked`,
    } as const;
  }
  if (!(await verifyConsistency(state.size, next.size, proof, state.rootHash, next.rootHash))) {
    return {
      code: "consistency_invalid",
      reason: `size ${next.size} is not proven to extend cosigned size ${state.size}`,
    } as const;
  }
  return undefined;
}

export async function witnessCheckpoint(request: WitnessRequest): Promise<WitnessOutcome> {
  const opened = await openCheckpoint(request);
  if ("ok" in opened) return opened;
  const checkpoint = opened;
  if (checkpoint.origin !== request.origin) {
    return {
      ok: false,
      code: "origin_mismatch",
      reason: `origin ${checkpoint.origin} is not ${request.origin}`,
    };
  }
  const current = request.state?.size ?? 0n;
  if (request.oldSize !== undefined && request.oldSize !== current) {
    return { ok: false, code: "old_size_mismatch", reason: `witness is at size ${current}`, size: current };
  }
  const refusal = await checkExtension(request.state, checkpoint, request.proof);
  if (refusal) return { ok: false, ...refusal };
  const text = parseNote(request.note).text;
  return {
    ok: true,
    cosignature: cosignatureLine(text, request.witness, request.now_seconds),
    state: { origin: checkpoint.origin, size: checkpoint.size, rootHash: checkpoint.rootHash },
  };
}
