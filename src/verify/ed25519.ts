import { bufferSource } from "./bytes.ts";

const ed25519_signature_bytes = 64;

// WebCrypto Ed25519 (RFC 8032). Node 20 and current browsers provide it, so
// the verifier needs no third-party crypto code.
export async function ed25519Verify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (signature.length !== ed25519_signature_bytes) return false;
  const key = await globalThis.crypto.subtle.importKey(
    "raw",
    bufferSource(publicKey),
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  return globalThis.crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    bufferSource(signature),
    bufferSource(message),
  );
}
