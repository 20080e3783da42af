import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { assert } from "../../core/assert.ts";
import { password_length_max, password_length_min } from "../../core/limits.ts";

// Passwords are hashed with scrypt from node:crypto. The parameters travel
// with each hash, so raising them later leaves old hashes verifiable.

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
}

export interface PasswordHash extends ScryptParams {
  salt_hex: string;
  hash_hex: string;
}

/** N = 2^15, r = 8, p = 1: about 32 MiB and ~50 ms on this box, OWASP's floor for scrypt. */
export const scrypt_default: ScryptParams = { n: 2 ** 15, r: 8, p: 1 };
const salt_bytes = 16;
const hash_bytes = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; leave headroom over Node's 32 MiB default.
  const maxmem = 256 * params.n * params.r;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, hash_bytes, { N: params.n, r: params.r, p: params.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params = scrypt_default): Promise<PasswordHash> {
  assert(password.length >= password_length_min, "password is shorter than the minimum");
  assert(password.length <= password_length_max, "password is longer than the maximum");
  const salt = randomBytes(salt_bytes);
  const hash = await derive(password, salt, params);
  return { ...params, salt_hex: salt.toString("hex"), hash_hex: hash.toString("hex") };
}

/** Constant-time comparison of a password against a stored hash. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash_hex, "hex");
  assert(expected.length === hash_bytes, "stored password hash has the wrong length");
  const actual = await derive(
    password.slice(0, password_length_max),
    Buffer.from(stored.salt_hex, "hex"),
    stored,
  );
  return timingSafeEqual(actual, expected);
}

/**
 * A hash no password matches, checked when the login names no user, so an
 * unknown account costs the same scrypt as a wrong password.
 */
export const decoy_password_hash: PasswordHash = {
  ...scrypt_default,
  salt_hex: "00".repeat(salt_bytes),
  hash_hex: "00".repeat(hash_bytes),
};

const password_alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** A random 20-character password (~117 bits), for `clearsplit users create` without --password-stdin. */
export function generatePassword(length = 20): string {
  let text = "";
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // Reject the tail of the byte range so every character is equally likely.
      if (byte < 256 - (256 % password_alphabet.length) && text.length < length)
        text += password_alphabet[byte % password_alphabet.length];
    }
  }
  return text;
}
