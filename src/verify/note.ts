import { fromBase64Strict, utf8Encode } from "./bytes.ts";
import { ed25519Verify } from "./ed25519.ts";
import { VerifyError } from "./verify-error.ts";
import {
  isValidKeyName,
  parseVkey,
  signature_type_cosignature_v1,
  signature_type_ed25519,
  type VerifierKey,
} from "./vkey.ts";

// C2SP signed-note v1.0.0: text, one empty line, then `— <name> <base64(keyID ‖ sig)>` lines.

// Verifiers must accept at least 16 signatures; a bound stops a hostile note
// from making us do unbounded work.
export const note_signatures_max = 100;
export const note_bytes_max = 1_000_000;

export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Uint8Array;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignature[];
}

function malformed(why: string): VerifyError {
  return new VerifyError("malformed_note", `malformed note: ${why}`);
}

const lone_surrogate_pattern = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const control_except_newline_pattern = /[^\P{Cc}\n]/u;
const signature_line_prefix = "\u2014 ";

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(signature_line_prefix))
    throw malformed(`signature line must start with "— ": ${line}`);
  const rest = line.slice(signature_line_prefix.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw malformed(`signature line needs a name and a signature: ${line}`);
  const name = rest.slice(0, space);
  const bytes = fromBase64Strict(rest.slice(space + 1));
  if (!isValidKeyName(name)) throw malformed(`invalid signer name in: ${line}`);
  if (bytes === undefined || bytes.length < 5)
    throw malformed(`signature is not base64 of key ID and signature: ${line}`);
  const keyId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  return { name, keyId, signature: bytes.slice(4) };
}

// Splits at the LAST empty line: the text may itself contain empty lines.
export function parseNote(note: string): ParsedNote {
  if (typeof note !== "string") throw malformed("not a string");
  if (note.length > note_bytes_max) throw malformed("too large");
  if (lone_surrogate_pattern.test(note)) throw malformed("not valid UTF-8");
  if (control_except_newline_pattern.test(note)) throw malformed("contains control characters");
  if (!note.endsWith("\n")) throw malformed("must end with a newline");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed("no empty line before the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) throw malformed("no signatures");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > note_signatures_max) throw malformed(`more than ${note_signatures_max} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

const timestamp_max = (1n << 63n) - 1n;

export function cosignedMessage(text: string, timestamp: bigint): Uint8Array {
  return utf8Encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

export interface SignatureCheck {
  valid: boolean;
  timestamp?: bigint;
}

// Type 0x01 signs the note text; type 0x04 (tlog-cosignature/v1) signs a
// header with a timestamp followed by the text, and prefixes the signature
// with that timestamp as a big-endian u64.
export async function checkSignature(
  key: VerifierKey,
  text: string,
  signature: Uint8Array,
): Promise<SignatureCheck> {
  if (key.type === signature_type_ed25519) {
    return { valid: await ed25519Verify(key.publicKey, signature, utf8Encode(text)) };
  }
  if (key.type === signature_type_cosignature_v1) {
    if (signature.length !== 72) return { valid: false };
    const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0, false);
    if (timestamp > timestamp_max) return { valid: false };
    const valid = await ed25519Verify(key.publicKey, signature.slice(8), cosignedMessage(text, timestamp));
    return { valid, timestamp };
  }
  return { valid: false };
}

function sameKey(key: VerifierKey, signature: NoteSignature): boolean {
  return key.name === signature.name && key.keyId === signature.keyId;
}

export async function verifyNote(
  note: string,
  verifierKeys: string[],
): Promise<{ text: string; verifiedBy: string[] }> {
  if (!Array.isArray(verifierKeys))
    throw new VerifyError("bad_vkey", "verifier keys must be an array of vkeys");
  const keys = await Promise.all(verifierKeys.map(parseVkey));
  const parsed = parseNote(note);
  const verifiedBy: string[] = [];
  const seen = new Set<VerifierKey>();
  for (const signature of parsed.signatures) {
    // Signatures from keys we were not given are ignored, as the spec requires.
    const key = keys.find((candidate) => sameKey(candidate, signature));
    if (key === undefined) continue;
    if (seen.has(key)) throw malformed(`two signatures from key ${key.name}`);
    seen.add(key);
    const check = await checkSignature(key, parsed.text, signature.signature);
    if (!check.valid) {
      throw new VerifyError("signature_invalid", `signature by known key ${key.name} does not verify`);
    }
    verifiedBy.push(key.name);
  }
  if (verifiedBy.length === 0) {
    const signers = parsed.signatures.map((signature) => signature.name).join(", ");
    throw new VerifyError(
      "no_known_signature",
      `note has no signature from a known key (signed by: ${signers})`,
    );
  }
  return { text: parsed.text, verifiedBy };
}
