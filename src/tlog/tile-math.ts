import { assert } from "../core/assert.ts";

// C2SP tlog-tiles geometry. A tile at level L holds up to 256 hashes of tree
// nodes at height 8·L (so one level-L hash covers 256^L leaves); a level-(L+1)
// hash is the Merkle root of one full level-L tile.
export const tile_height = 8;
export const tile_width_max = 256;
const tile_height_big = BigInt(tile_height);

export interface TileId {
  level: number;
  index: bigint;
  width: number;
}

export interface Tile extends TileId {
  hashes: Uint8Array; // width × 32 bytes
}

// Number of complete nodes at height 8·level in a tree of `size` leaves.
export function levelNodeCount(size: bigint, level: number): bigint {
  return size >> (tile_height_big * BigInt(level));
}

// Width of tile (level, index) as seen at tree size `size`: 256 once full.
export function tileWidthAt(size: bigint, level: number, index: bigint): number {
  const available = levelNodeCount(size, level) - index * BigInt(tile_width_max);
  assert(available > 0n, `tile ${level}/${index} is empty at tree size ${size}`);
  return available >= BigInt(tile_width_max) ? tile_width_max : Number(available);
}

// The right-edge partial tiles of a tree: at most one per level, width
// floor(size / 256^level) mod 256, omitted where that width is 0.
export function partialTilesAt(size: bigint): TileId[] {
  assert(size >= 0n, "size must be non-negative");
  const out: TileId[] = [];
  for (let level = 0; levelNodeCount(size, level) > 0n; level++) {
    const count = levelNodeCount(size, level);
    const width = Number(count % BigInt(tile_width_max));
    if (width > 0) out.push({ level, index: count / BigInt(tile_width_max), width });
  }
  return out;
}

// Every tile (full and the final partial) that exists at a tree size, per level.
export function tileCountsAt(size: bigint): { level: number; fullTiles: bigint; partialWidth: number }[] {
  const out: { level: number; fullTiles: bigint; partialWidth: number }[] = [];
  for (let level = 0; levelNodeCount(size, level) > 0n; level++) {
    const count = levelNodeCount(size, level);
    out.push({
      level,
      fullTiles: count / BigInt(tile_width_max),
      partialWidth: Number(count % BigInt(tile_width_max)),
    });
  }
  return out;
}

// Where the hashes making up perfect node (height, index) are stored: `count`
// consecutive entries from `offset` in tile (level, tileIndex).
export function nodeTileLocation(
  height: number,
  index: bigint,
): { level: number; tileIndex: bigint; offset: number; count: number } {
  assert(Number.isInteger(height) && height >= 0, `height ${height} must be a non-negative integer`);
  const level = Math.floor(height / tile_height);
  const shift = height % tile_height;
  const first = index << BigInt(shift);
  return {
    level,
    tileIndex: first / BigInt(tile_width_max),
    offset: Number(first % BigInt(tile_width_max)),
    count: 1 << shift,
  };
}
