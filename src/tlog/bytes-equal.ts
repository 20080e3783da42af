import { timingSafeEqual } from "node:crypto";

export function bytesEqualConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
