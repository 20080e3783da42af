import { checkSignature, parseNote } from "./note.ts";
import { VerifyError } from "./verify-error.ts";
import { parseVkey, signature_type_cosignature_v1 } from "./vkey.ts";

// C2SP tlog-cosignature v1.0.1: a witness's signature line on a checkpoint,
// holding u64be timestamp ‖ Ed25519 signature (72 bytes) after the key ID.
// Throws when the witness has not cosigned the note or its cosignature fails.
export async function verifyCosignature(note: string, witnessKey: string): Promise<{ timestamp: bigint }> {
  const key = await parseVkey(witnessKey);
  if (key.type !== signature_type_cosignature_v1) {
    throw new VerifyError("bad_vkey", `witness key ${key.name} is not a cosignature/v1 (type 0x04) key`);
  }
  const parsed = parseNote(note);
  const lines = parsed.signatures.filter((line) => line.name === key.name && line.keyId === key.keyId);
  if (lines.length === 0)
    throw new VerifyError("cosignature_missing", `no cosignature from witness ${key.name}`);
  if (lines.length > 1) throw new VerifyError("malformed_note", `two cosignatures from witness ${key.name}`);
  const check = await checkSignature(key, parsed.text, lines[0]!.signature);
  if (!check.valid || check.timestamp === undefined) {
    throw new VerifyError("signature_invalid", `cosignature by witness ${key.name} does not verify`);
  }
  return { timestamp: check.timestamp };
}
