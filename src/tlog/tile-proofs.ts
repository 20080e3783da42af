import { assert } from "../core/assert.ts";
import { perfectRoot } from "./appender.ts";
import { consistencyRanges, inclusionRanges, type LeafRange, perfectNodes } from "./proof-ranges.ts";
import { nodeTileLocation, tile_width_max, tileWidthAt } from "./tile-math.ts";
import { empty_tree_root, hash_bytes, hashChildren } from "./tree-hash.ts";

// Proofs and roots from stored tiles only. A perfect node at height h is read
// from the level-⌊h/8⌋ tile, hashing at most 128 stored entries when h is not a
// multiple of 8; leaves are touched only through level-0 tiles.

// Returns width × 32 bytes of tile hashes. Tiles only grow by appending, so a
// fetcher may return a wider version of the tile (e.g. the full tile once the
// partial one is pruned): only the first `width` hashes are used.
export type TileFetcher = (level: number, index: bigint, width: number) => Uint8Array | Promise<Uint8Array>;

// The inner nodes of a tile, once hashed, kept for as long as the tile's bytes
// are: a fetcher that caches tiles (the server's) returns the same array for
// later proofs, which then read those nodes instead of hashing up to 247 of
// them again. The bytes of a tile never change, so neither do its nodes. They
// live in one array per tile (255 nodes, 8,160 bytes, as a heap: slot
// 256/count − 1 + offset/count), with a byte per slot saying it is filled.
interface InnerNodes {
  hashes: Uint8Array;
  filled: Uint8Array;
}
const inner_node_slots = tile_width_max - 1;
const inner_nodes = new WeakMap<Uint8Array, InnerNodes>();

function tileNode(hashes: Uint8Array, offset: number, count: number): Uint8Array {
  assert(count > 0 && (count & (count - 1)) === 0, `count ${count} must be a power of two`);
  assert(offset % count === 0 && offset + count <= tile_width_max, `node ${offset}+${count} inside a tile`);
  if (count === 1) return perfectRoot(hashes, offset, 1);
  let nodes = inner_nodes.get(hashes);
  if (nodes === undefined) {
    nodes = {
      hashes: new Uint8Array(inner_node_slots * hash_bytes),
      filled: new Uint8Array(inner_node_slots),
    };
    inner_nodes.set(hashes, nodes);
  }
  const slot = tile_width_max / count - 1 + offset / count;
  const at = slot * hash_bytes;
  if (nodes.filled[slot] === 0) {
    const half = count / 2;
    nodes.hashes.set(hashChildren(tileNode(hashes, offset, half), tileNode(hashes, offset + half, half)), at);
    nodes.filled[slot] = 1;
  }
  return nodes.hashes.subarray(at, at + hash_bytes);
}

class TileHashReader {
  readonly #cache = new Map<string, Promise<Uint8Array>>();

  constructor(
    readonly size: bigint,
    readonly fetch: TileFetcher,
  ) {}

  async #tile(level: number, index: bigint): Promise<Uint8Array> {
    const width = tileWidthAt(this.size, level, index);
    const key = `${level}/${index}/${width}`;
    let tile = this.#cache.get(key);
    if (!tile) {
      tile = Promise.resolve(this.fetch(level, index, width));
      this.#cache.set(key, tile);
    }
    const hashes = await tile;
    assert(hashes.length >= width * hash_bytes, `tile ${key} returned ${hashes.length / hash_bytes} hashes`);
    return hashes;
  }

  async node(height: number, index: bigint): Promise<Uint8Array> {
    const where = nodeTileLocation(height, index);
    const hashes = await this.#tile(where.level, where.tileIndex);
    return tileNode(hashes, where.offset, where.count);
  }

  async range(range: LeafRange): Promise<Uint8Array> {
    assert(range[1] <= this.size, `range ${range[0]}..${range[1]} exceeds tree size ${this.size}`);
    const nodes = await Promise.all(perfectNodes(range).map(({ height, index }) => this.node(height, index)));
    let hash = nodes[nodes.length - 1]!;
    for (let i = nodes.length - 2; i >= 0; i--) hash = hashChildren(nodes[i]!, hash);
    return hash;
  }
}

export async function rootFromTiles(size: bigint, fetch: TileFetcher): Promise<Uint8Array> {
  assert(size >= 0n, "size must be non-negative");
  if (size === 0n) return empty_tree_root;
  return new TileHashReader(size, fetch).range([0n, size]);
}

export async function inclusionProofFromTiles(
  index: bigint,
  size: bigint,
  fetch: TileFetcher,
): Promise<Uint8Array[]> {
  const reader = new TileHashReader(size, fetch);
  return Promise.all(inclusionRanges(index, size).map((range) => reader.range(range)));
}

export async function consistencyProofFromTiles(
  size1: bigint,
  size2: bigint,
  fetch: TileFetcher,
): Promise<Uint8Array[]> {
  const reader = new TileHashReader(size2, fetch);
  if (size1 === size2) return [];
  return Promise.all(consistencyRanges(size1, size2).map((range) => reader.range(range)));
}
