import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cosignatureLine } from "../tlog/cosigner.ts";
import {
  generateSigner,
  signature_type_cosignature_v1,
  signatureLine,
  signNote,
} from "../tlog/note-signer.ts";
import {
  parseCheckpoint,
  parseVkey,
  VerifyError,
  verifyCheckpoint,
  verifyCosignature,
  verifyNote,
} from "./index.ts";

interface NoteVectors {
  signedNotes: { vkeys: string[]; signedNote: string; expectText: string; expectVerifiedBy: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../../test/vectors/signed-note.json", import.meta.url), "utf8"),
) as NoteVectors;

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toSatisfy((error) => error instanceof VerifyError && error.code === code);
}

describe("signed notes", () => {
  // Proves the C2SP example note verifies with its published vkey.
  it.each(vectors.signedNotes)("verifies vector $name", async (v) => {
    const result = await verifyNote(v.signedNote, v.vkeys);
    expect(result).toEqual({ text: v.expectText, verifiedBy: v.expectVerifiedBy });
    const tampered = v.signedNote.replace("example message", "example massage");
    await rejects(verifyNote(tampered, v.vkeys), "signature_invalid");
  });

  // Proves our notes round-trip, unknown signers are ignored, and a failing known signature rejects.
  it("round-trips our own notes and applies the signer rules", async () => {
    const log = generateSigner("log.example/acme");
    const other = generateSigner("other.example");
    const text = "hello\n\nwith an empty line inside\n";
    const note = signNote(text, [log, other]);
    expect(await verifyNote(note, [log.vkey])).toEqual({ text, verifiedBy: [log.name] });
    expect((await verifyNote(note, [log.vkey, other.vkey])).verifiedBy).toEqual([log.name, other.name]);
    await rejects(verifyNote(note, [generateSigner("stranger").vkey]), "no_known_signature");
    const forged = `${text}\n${signatureLine(log, new Uint8Array(64))}`;
    await rejects(verifyNote(forged, [log.vkey]), "signature_invalid");
    const duplicated = note + signatureLine(log, log.sign(new TextEncoder().encode(text)));
    await rejects(verifyNote(duplicated, [log.vkey]), "malformed_note");
  });

  // Proves notes with at least 16 signatures are accepted, as the spec requires.
  it("accepts 20 signatures", async () => {
    const signers = Array.from({ length: 20 }, (_, i) => generateSigner(`signer-${i}`));
    const note = signNote("many\n", signers);
    expect((await verifyNote(note, [signers[19]!.vkey])).verifiedBy).toEqual(["signer-19"]);
  });

  // Proves malformed notes and bad vkeys are refused with their own codes.
  it("refuses malformed notes and bad vkeys", async () => {
    const log = generateSigner("log");
    const note = signNote("text\n", [log]);
    for (const bad of [
      "no signatures\n",
      "text\n\n",
      note.slice(0, -1),
      note.replace("\u2014", "-"),
      note.replace("text", "te\u0001xt"),
      note.replace("text", "te\uD800xt"),
      `${note}\u2014 log !!!\n`,
    ]) {
      await rejects(verifyNote(bad, [log.vkey]), "malformed_note");
    }
    const [name, id, key] = [
      log.vkey.split("+")[0]!,
      log.vkey.split("+")[1]!,
      log.vkey.split("+").slice(2).join("+"),
    ];
    for (const vkey of [
      "nokey",
      `${name}+${id}`,
      `${name}+00000000+${key}`,
      `${name}+${id.toUpperCase()}+${key}`,
      `+${id}+${key}`,
      `${name}+${id}+${key.slice(0, -4)}`,
      `${name}+${id}+AkgAAAAAAAA=`,
    ]) {
      await rejects(verifyNote(note, [vkey]), "bad_vkey");
    }
  });

  // Proves vkeys are split on the first two `+` only (base64 may contain `+`).
  it("parses vkeys whose base64 contains +", async () => {
    let signer = generateSigner("plus.example");
    while (!signer.vkey.split("+").slice(2).join("+").includes("+")) signer = generateSigner("plus.example");
    expect((await parseVkey(signer.vkey)).name).toBe("plus.example");
    expect((await verifyNote(signNote("x\n", [signer]), [signer.vkey])).verifiedBy).toEqual(["plus.example"]);
  });

  // Proves checkpoints and cosignatures round-trip and that a wrong timestamp or text fails.
  it("verifies checkpoints and cosignatures", async () => {
    const log = generateSigner("log.example/acme");
    const witness = generateSigner("witness.example", signature_type_cosignature_v1);
    const text = `log.example/acme\n42\n${Buffer.alloc(32, 7).toString("base64")}\n`;
    const note = signNote(text, [log]) + cosignatureLine(text, witness, 1_700_000_000n);
    const checkpoint = await verifyCheckpoint(note, [log.vkey]);
    expect(checkpoint).toMatchObject({ origin: "log.example/acme", size: 42n, verifiedBy: [log.name] });
    expect(await verifyCosignature(note, witness.vkey)).toEqual({ timestamp: 1_700_000_000n });
    await rejects(verifyCosignature(signNote(text, [log]), witness.vkey), "cosignature_missing");
    await rejects(verifyCosignature(note, log.vkey), "bad_vkey");
    const other_text = text.replace("42", "43");
    const moved = signNote(other_text, [log]) + cosignatureLine(text, witness, 1_700_000_000n);
    await rejects(verifyCosignature(moved, witness.vkey), "signature_invalid");
  });

  // Proves the checkpoint body rules: decimal size without leading zeros, 32-byte root.
  it("parses checkpoint bodies strictly", () => {
    const root = Buffer.alloc(32, 1).toString("base64");
    expect(parseCheckpoint(`o\n0\n${root}\n`).size).toBe(0n);
    expect(parseCheckpoint(`o\n18446744073709551615\n${root}\next\n`).extensions).toEqual(["ext"]);
    for (const bad of [
      `o\n01\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n1\n${root.slice(4)}\n`,
      `\n1\n${root}\n`,
      `o\n1\n${root}`,
    ]) {
      expect(() => parseCheckpoint(bad)).toThrow(VerifyError);
    }
    expect(() => parseCheckpoint(`o\n18446744073709551616\n${root}\n`)).toThrow(VerifyError);
  });
});
