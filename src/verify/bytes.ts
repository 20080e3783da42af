// Byte helpers that run unchanged in Node and in browsers: no Buffer, only
// TextEncoder/atob/btoa, which both provide.

const encoder = new TextEncoder();
const decoder_strict = new TextDecoder("utf-8", { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

// Throws on invalid UTF-8 instead of substituting U+FFFD.
export function utf8DecodeStrict(bytes: Uint8Array): string {
  return decoder_strict.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

const hex_pattern = /^(?:[0-9a-fA-F]{2})*$/;

export function fromHex(text: string): Uint8Array {
  if (!hex_pattern.test(text)) throw new Error(`not an even-length hex string: ${JSON.stringify(text)}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const base64_pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Standard padded base64 only, and only its canonical form: a signature or hash
// must have exactly one accepted spelling, so re-encoding must give back the input.
export function fromBase64Strict(text: string): Uint8Array | undefined {
  if (!base64_pattern.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (toBase64(out) !== text) return undefined;
  return out;
}

// WebCrypto's TypeScript types want ArrayBuffer-backed views; copy when a view
// sits on a SharedArrayBuffer or similar.
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}
