import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildProofBundle, newRecordSalt } from "../tlog/bundle-builder.ts";
import { signCheckpoint } from "../tlog/checkpoint-format.ts";
import { cosignatureLine } from "../tlog/cosigner.ts";
import { MemoryTiledLog } from "../tlog/memory-log.ts";
import { generateSigner, signature_type_cosignature_v1 } from "../tlog/note-signer.ts";
import { inclusionProofFromTiles } from "../tlog/tile-proofs.ts";
import { hashLeaf } from "../tlog/tree-hash.ts";
import { canonicalJson, type ProofBundle, recordLeafInput, VerifyError, verifyBundle } from "./index.ts";
import { parseNote } from "./note.ts";

const origin = "ledger.example/acme";
const log = generateSigner(origin);
const witnesses = [1, 2, 3].map((i) => generateSigner(`w${i}.example`, signature_type_cosignature_v1));

async function makeBundle(cosigners = witnesses): Promise<ProofBundle> {
  const tree = new MemoryTiledLog();
  const records = Array.from({ length: 300 }, (_, i) => ({
    kind: "journal_transaction",
    id: `tx-${i}`,
    postings: [{ account: "merchant:7", amount: { value: String(1000 + i), currency: "CNY" } }],
  }));
  const salts = records.map(() => newRecordSalt());
  const inputs = await Promise.all(records.map((record, i) => recordLeafInput(record, salts[i]!)));
  const result = tree.append(inputs.map(hashLeaf));
  const note = signCheckpoint(origin, result.size, result.root, log);
  const text = parseNote(note).text;
  const cosigned = note + cosigners.map((w) => cosignatureLine(text, w, 1_700_000_000n)).join("");
  return buildProofBundle({
    origin,
    record: records[123],
    salt: salts[123]!,
    leaf_index: 123n,
    tree_size: result.size,
    inclusion_proof: await inclusionProofFromTiles(123n, result.size, tree.fetch),
    checkpoint: cosigned,
  });
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toSatisfy((error) => error instanceof VerifyError && error.code === code);
}

describe("proof bundles", () => {
  // Proves a bundle round-trips through JSON and verifies with log key and witness quorum.
  it("verifies a bundle with a witness quorum", async () => {
    const bundle = JSON.parse(JSON.stringify(await makeBundle()));
    const result = await verifyBundle(
      bundle,
      [log.vkey],
      witnesses.map((w) => w.vkey),
      2,
    );
    expect(result).toMatchObject({ origin, leafIndex: 123n, treeSize: 300n, verifiedBy: [origin] });
    expect(result.cosignedBy.map((c) => c.name)).toEqual(["w1.example", "w2.example", "w3.example"]);
    await verifyBundle(bundle, [log.vkey]);
  });

  // Proves every tampering of a bundle field is caught with a named reason.
  it("rejects tampered bundles", async () => {
    const bundle = await makeBundle();
    const keys = [log.vkey];
    const record = bundle.record as { postings: { amount: { value: string } }[] };
    const changed_record = structuredClone(record);
    changed_record.postings[0]!.amount.value = "1";
    await rejects(verifyBundle({ ...bundle, record: changed_record }, keys), "inclusion_invalid");
    await rejects(
      verifyBundle({ ...bundle, salt: Buffer.alloc(16).toString("base64") }, keys),
      "inclusion_invalid",
    );
    await rejects(verifyBundle({ ...bundle, leaf_index: 124 }, keys), "inclusion_invalid");
    await rejects(verifyBundle({ ...bundle, tree_size: 301 }, keys), "size_mismatch");
    await rejects(verifyBundle({ ...bundle, origin: "ledger.example/other" }, keys), "origin_mismatch");
    const proof = [...bundle.inclusion_proof];
    proof[2] = Buffer.alloc(32, 9).toString("base64");
    await rejects(verifyBundle({ ...bundle, inclusion_proof: proof }, keys), "inclusion_invalid");
    await rejects(
      verifyBundle({ ...bundle, checkpoint: bundle.checkpoint.replace("\n300\n", "\n301\n") }, keys),
      "signature_invalid",
    );
    await rejects(verifyBundle(bundle, [generateSigner(origin).vkey]), "no_known_signature");
    await rejects(verifyBundle({ ...bundle, version: 2 }, keys), "malformed_bundle");
    await rejects(verifyBundle({ ...bundle, salt: "short" }, keys), "malformed_bundle");
    await rejects(verifyBundle(null, keys), "malformed_bundle");
  });

  // Proves the quorum counts only valid cosignatures from the given witnesses.
  it("enforces the witness quorum", async () => {
    const bundle = await makeBundle(witnesses.slice(0, 1));
    const keys = witnesses.map((w) => w.vkey);
    await verifyBundle(bundle, [log.vkey], keys, 1);
    await rejects(verifyBundle(bundle, [log.vkey], keys, 2), "quorum_not_met");
    await rejects(verifyBundle(bundle, [log.vkey], keys), "quorum_not_met");
    await rejects(verifyBundle(bundle, [log.vkey], keys, 4), "bad_quorum");
    // A present but invalid cosignature is tampering, not a missing witness.
    // Flip the signature's 21st character itself (checking the one before it
    // left the bundle unchanged whenever that character already was "A").
    const broken = bundle.checkpoint.replace(
      /(— w1\.example \S{20})(\S)/,
      (_m, head: string, char: string) => `${head}${char === "A" ? "B" : "A"}`,
    );
    expect(broken).not.toBe(bundle.checkpoint);
    await expect(verifyBundle({ ...bundle, checkpoint: broken }, [log.vkey], keys, 1)).rejects.toThrow(
      VerifyError,
    );
  });

  // Proves JCS sorts keys by UTF-16 code units (so U+1F600, a surrogate pair, sorts before U+FFFD), formats numbers per ECMAScript,
  // and refuses values that are not plain JSON.
  it("canonicalizes records per RFC 8785", async () => {
    expect(canonicalJson({ b: [1, 1e21, 0.1, -0], a: "é\u2028", "\u{1F600}": true, "\uFFFD": null })).toBe(
      '{"a":"é\u2028","b":[1,1e+21,0.1,0],"\u{1F600}":true,"\uFFFD":null}',
    );
    const canonicalize = ((await import("canonicalize")) as unknown as { default: (v: unknown) => string })
      .default;
    const sample = { z: { y: [3, "x", { b: 2, a: 1 }] }, a: 1.5e-7, "\u00e9": "\u0000" };
    expect(canonicalJson(sample)).toBe(canonicalize(sample));
    for (const bad of [{ a: undefined }, { a: 1n }, { a: Number.NaN }, { a: new Date(0) }, { a: "\uD800" }]) {
      expect(() => canonicalJson(bad)).toThrow(VerifyError);
    }
    // The error names where the refused value sits, however deep.
    expect(() => canonicalJson({ ok: [1, { deep: [true, Number.POSITIVE_INFINITY] }] })).toThrow(
      "record.ok[1].deep[1] is not a finite number",
    );
    // Both walks (the native one for values already in canonical key order, and
    // the sorting one) agree with an independent implementation.
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
        const sorted = JSON.parse(canonicalize(value));
        expect(canonicalJson(sorted)).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
    let nested: unknown = 1;
    for (let i = 0; i < 70; i++) nested = [nested];
    expect(() => canonicalJson(nested)).toThrow("nests deeper than 64");
  });
});
