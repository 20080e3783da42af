import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign } from "node:crypto";
import { assert } from "../core/assert.ts";
import { isValidKeyName, toBase64 } from "../verify/index.ts";
import { sha256Sync } from "./tree-hash.ts";

// Ed25519 signers for C2SP signed notes: the log's key (type 0x01) and a
// witness's cosignature key (type 0x04, tlog-cosignature/v1). Keys are saved
// in Go's note-package format, `PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>`
// (a local convention, not C2SP), so they also work with Go's tooling.

export const signature_type_ed25519 = 0x01;
export const signature_type_cosignature_v1 = 0x04;
const private_key_prefix = "PRIVATE+KEY+";
// PKCS#8 DER header for an Ed25519 private key whose 32-byte seed follows.
const pkcs8_ed25519_header = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface NoteSigner {
  name: string;
  type: number;
  keyId: number;
  publicKey: Uint8Array;
  vkey: string;
  privateKeyText: string;
  sign(message: Uint8Array): Uint8Array;
}

export function keyIdSync(name: string, type: number, publicKey: Uint8Array): number {
  const input = Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0x0a, type]), publicKey]);
  return Buffer.from(sha256Sync(input)).readUInt32BE(0);
}

function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

function fromSeed(name: string, type: number, seed: Uint8Array): NoteSigner {
  assert(isValidKeyName(name), `invalid key name ${JSON.stringify(name)}`);
  assert(
    type === signature_type_ed25519 || type === signature_type_cosignature_v1,
    `unsupported type ${type}`,
  );
  assert(seed.length === 32, "Ed25519 seed must be 32 bytes");
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([pkcs8_ed25519_header, seed]),
    format: "der",
    type: "pkcs8",
  });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const publicKey = new Uint8Array(Buffer.from(jwk.x!, "base64url"));
  const keyId = keyIdSync(name, type, publicKey);
  const typed = (bytes: Uint8Array) => toBase64(Uint8Array.of(type, ...bytes));
  return {
    name,
    type,
    keyId,
    publicKey,
    vkey: `${name}+${hex8(keyId)}+${typed(publicKey)}`,
    privateKeyText: `${private_key_prefix}${name}+${hex8(keyId)}+${typed(seed)}`,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

export function generateSigner(name: string, type: number = signature_type_ed25519): NoteSigner {
  // Generated through node:crypto's CSPRNG; the seed is the RFC 8032 private key.
  return fromSeed(name, type, new Uint8Array(randomBytes(32)));
}

export function signerFromPrivateKey(text: string): NoteSigner {
  const fields = text.trim().startsWith(private_key_prefix)
    ? text.trim().slice(private_key_prefix.length)
    : "";
  const first = fields.indexOf("+");
  const second = fields.indexOf("+", first + 1);
  assert(first > 0 && second > first, "private key must be PRIVATE+KEY+name+keyid+base64");
  const name = fields.slice(0, first);
  const bytes = Buffer.from(fields.slice(second + 1), "base64");
  assert(bytes.length === 33, "private key must hold a type byte and a 32-byte seed");
  const signer = fromSeed(name, bytes[0]!, new Uint8Array(bytes.subarray(1)));
  assert(hex8(signer.keyId) === fields.slice(first + 1, second), "private key ID does not match its key");
  return signer;
}

export function signatureLine(signer: NoteSigner, signature: Uint8Array): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(signer.keyId);
  return `\u2014 ${signer.name} ${Buffer.concat([id, signature]).toString("base64")}\n`;
}

// Signs `text` (which must end in a newline) with type-0x01 signers.
export function signNote(text: string, signers: NoteSigner[]): string {
  assert(text.endsWith("\n"), "note text must end with a newline");
  assert(signers.length > 0, "a note needs at least one signer");
  const message = Buffer.from(text, "utf8");
  const lines = signers.map((signer) => {
    assert(signer.type === signature_type_ed25519, `signer ${signer.name} is not a note (0x01) key`);
    return signatureLine(signer, signer.sign(message));
  });
  return `${text}\n${lines.join("")}`;
}
