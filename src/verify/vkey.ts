import { concatBytes, fromBase64Strict, utf8Encode } from "./bytes.ts";
import { sha256 } from "./hash.ts";
import { VerifyError } from "./verify-error.ts";

// C2SP signed-note signature types this verifier understands.
export const signature_type_ed25519 = 0x01;
export const signature_type_cosignature_v1 = 0x04;

const ed25519_public_key_bytes = 32;

export interface VerifierKey {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array;
}

// Key names are non-empty, without Unicode white space, `+` or control characters.
const name_forbidden_pattern = /[\s+\p{Cc}]/u;

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !name_forbidden_pattern.test(name);
}

// keyID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[0:4], big-endian.
export async function computeKeyId(name: string, type: number, publicKey: Uint8Array): Promise<number> {
  const digest = await sha256(concatBytes(utf8Encode(name), new Uint8Array([0x0a, type]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

function badVkey(vkey: string, why: string): VerifyError {
  return new VerifyError("bad_vkey", `bad verifier key ${JSON.stringify(vkey)}: ${why}`);
}

// vkey = <name>+<8 hex key ID>+<base64(type ‖ public key)>. Only the first two
// `+` separate fields: standard base64 may itself contain `+`.
export async function parseVkey(vkey: string): Promise<VerifierKey> {
  if (typeof vkey !== "string") throw badVkey(String(vkey), "not a string");
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw badVkey(vkey, "expected name+keyid+key");
  const name = vkey.slice(0, first);
  const id_hex = vkey.slice(first + 1, second);
  const key_bytes = fromBase64Strict(vkey.slice(second + 1));
  if (!isValidKeyName(name)) throw badVkey(vkey, "invalid key name");
  if (!/^[0-9a-f]{8}$/.test(id_hex)) throw badVkey(vkey, "key ID must be 8 lowercase hex digits");
  if (key_bytes === undefined || key_bytes.length < 1) throw badVkey(vkey, "key is not canonical base64");
  const type = key_bytes[0]!;
  const publicKey = key_bytes.slice(1);
  if (type !== signature_type_ed25519 && type !== signature_type_cosignature_v1) {
    throw badVkey(vkey, `unsupported signature type 0x${type.toString(16).padStart(2, "0")}`);
  }
  if (publicKey.length !== ed25519_public_key_bytes) throw badVkey(vkey, "Ed25519 key must be 32 bytes");
  const keyId = await computeKeyId(name, type, publicKey);
  if (keyId !== Number.parseInt(id_hex, 16)) throw badVkey(vkey, "key ID does not match name and key");
  return { name, keyId, type, publicKey };
}
