import { VerifyError } from "./verify-error.ts";

export const tile_width_max = 256;

// C2SP tlog-tiles: the index is written in 3-digit groups, every group but the
// last prefixed with `x`, so 1234067 → x001/x234/067; a partial tile appends `.p/<width>`.
export function tilePath(level: number, index: bigint, width: number = tile_width_max): string {
  if (!Number.isInteger(level) || level < 0 || level > 63) {
    throw new VerifyError("bad_tile", `tile level ${level} must be an integer in 0..63`);
  }
  if (typeof index !== "bigint" || index < 0n)
    throw new VerifyError("bad_tile", `tile index ${index} must be ≥ 0`);
  if (!Number.isInteger(width) || width < 1 || width > tile_width_max) {
    throw new VerifyError("bad_tile", `tile width ${width} must be an integer in 1..${tile_width_max}`);
  }
  let digits = index.toString();
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  const path = groups.map((group, i) => (i < groups.length - 1 ? `x${group}` : group)).join("/");
  const partial = width === tile_width_max ? "" : `.p/${width}`;
  return `tile/${level}/${path}${partial}`;
}
