import { describe, expect, it } from "vitest";
import { verifyCosignature } from "../verify/index.ts";
import { signCheckpoint } from "./checkpoint-format.ts";
import { MemoryTiledLog } from "./memory-log.ts";
import { generateSigner, signature_type_cosignature_v1 } from "./note-signer.ts";
import { consistencyProofFromTiles } from "./tile-proofs.ts";
import { hashLeaf } from "./tree-hash.ts";
import { type WitnessState, witnessCheckpoint } from "./witness.ts";

const origin = "log.example/acme";
const log_signer = generateSigner(origin);

function leaves(from: number, count: number, branch: string): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => hashLeaf(new TextEncoder().encode(`${branch}:${from + i}`)));
}

// A log plus the signed checkpoint at each size it reached.
function grow(log: MemoryTiledLog, count: number, branch: string) {
  const result = log.append(leaves(Number(log.size), count, branch));
  return { size: result.size, note: signCheckpoint(origin, result.size, result.root, log_signer) };
}

class TestWitness {
  state: WitnessState | null = null;
  readonly signer;

  constructor(name: string) {
    this.signer = generateSigner(name, signature_type_cosignature_v1);
  }

  async submit(note: string, proof: Uint8Array[], keys = [log_signer.vkey]) {
    const outcome = await witnessCheckpoint({
      state: this.state,
      note,
      proof,
      origin,
      logKeys: keys,
      witness: this.signer,
      now_seconds: 1_700_000_000n,
    });
    if (outcome.ok) this.state = outcome.state;
    return outcome;
  }
}

describe("witness", () => {
  // Proves two witnesses cosign a growing log and their cosignatures verify.
  it("two witnesses cosign consistent checkpoints", async () => {
    const log = new MemoryTiledLog();
    const witnesses = [new TestWitness("w1.example"), new TestWitness("w2.example")];
    let previous = 0n;
    for (const count of [5, 300, 1, 70_000]) {
      const { size, note } = grow(log, count, "main");
      const proof = previous === 0n ? [] : await consistencyProofFromTiles(previous, size, log.fetch);
      for (const witness of witnesses) {
        const outcome = await witness.submit(note, proof);
        expect(outcome.ok).toBe(true);
        if (outcome.ok)
          expect(await verifyCosignature(note + outcome.cosignature, witness.signer.vkey)).toEqual({
            timestamp: 1_700_000_000n,
          });
      }
      previous = size;
    }
    // The same checkpoint again is cosigned again: witnesses are idempotent.
    expect((await witnesses[0]!.submit(grow(log, 0, "main").note, [])).ok).toBe(true);
  });

  // Proves a fork is refused: a witness that cosigned one branch refuses another
  // tree of the same size, a non-extension, and a smaller tree.
  it("refuses a forked log", async () => {
    const honest = new MemoryTiledLog();
    const forked = new MemoryTiledLog();
    const shared = leaves(0, 10, "shared");
    honest.append(shared);
    forked.append(shared);
    const witness_a = new TestWitness("a.example");
    const witness_b = new TestWitness("b.example");
    const a = grow(honest, 20, "honest");
    const b = grow(forked, 20, "evil");
    expect((await witness_a.submit(a.note, [])).ok).toBe(true);
    expect((await witness_b.submit(b.note, [])).ok).toBe(true);
    // Each witness has seen one branch: the other branch at the same size is a fork.
    expect(await witness_a.submit(b.note, [])).toMatchObject({ ok: false, code: "fork_same_size" });
    expect(await witness_b.submit(a.note, [])).toMatchObject({ ok: false, code: "fork_same_size" });
    // The forked log grows: no proof from the honest size 30 can link to it.
    const b2 = grow(forked, 5, "evil");
    const forked_proof = await consistencyProofFromTiles(30n, 35n, forked.fetch);
    expect(await witness_a.submit(b2.note, forked_proof)).toMatchObject({
      ok: false,
      code: "consistency_invalid",
    });
    expect((await witness_b.submit(b2.note, forked_proof)).ok).toBe(true);
    // Rolling back to an earlier, smaller checkpoint is refused.
    const small = signCheckpoint(origin, 1n, hashLeaf(new Uint8Array()), log_signer);
    expect(await witness_a.submit(small, [])).toMatchObject({ ok: false, code: "size_smaller" });
  });

  // Proves a checkpoint signed by another key, or for another origin, is refused.
  it("refuses badly signed checkpoints", async () => {
    const log = new MemoryTiledLog();
    const { size, note } = grow(log, 3, "main");
    const witness = new TestWitness("w.example");
    const impostor = generateSigner(origin);
    const root = log.append([]).root;
    const forged = signCheckpoint(origin, size, root, impostor);
    expect(await witness.submit(forged, [])).toMatchObject({ ok: false, code: "checkpoint_bad_signature" });
    const other_origin = signCheckpoint("other.example/x", size, root, log_signer);
    expect(await witness.submit(other_origin, [])).toMatchObject({ ok: false, code: "origin_mismatch" });
    expect(await witness.submit(note.replace("\n3\n", "\n4\n"), [])).toMatchObject({
      ok: false,
      code: "checkpoint_bad_signature",
    });
    expect(witness.state).toBeNull();
  });
});
