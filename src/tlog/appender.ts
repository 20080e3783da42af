import { assert } from "../core/assert.ts";
import { partialTilesAt, type Tile, tile_width_max } from "./tile-math.ts";
import { empty_tree_root, hash_bytes, hashChildren } from "./tree-hash.ts";

// The sequencer's core: append a batch of leaf hashes to a tiled tree knowing
// only its size and its right edge (the partial tile of each level). Every
// interior hash is computed exactly once, when its tile fills, so the cost is
// about one SHA-256 per leaf plus at most 255 per level per batch for the root.

export const appender_levels_max = 8; // 256^8 = 2^64 leaves
export const batch_leaves_max = 1_000_000;

export interface TreeEdge {
  size: bigint;
  edge: Tile[]; // the partial tiles at `size`, as partialTilesAt(size) lists them
}

export interface AppendResult extends TreeEdge {
  root: Uint8Array;
  tiles: Tile[]; // new full tiles and the new partial tiles, to store; all immutable
}

class LevelBuffer {
  readonly hashes = new Uint8Array(tile_width_max * hash_bytes);
  count = 0;
  index = 0n; // index of the tile being filled
  dirty = false;
}

export function appendLeaves(tree: TreeEdge, leafHashes: readonly Uint8Array[]): AppendResult {
  assert(leafHashes.length <= batch_leaves_max, `batch of ${leafHashes.length} exceeds ${batch_leaves_max}`);
  const levels = loadEdge(tree);
  const tiles: Tile[] = [];
  for (const leaf of leafHashes) {
    assert(leaf.length === hash_bytes, "leaf hash must be 32 bytes");
    push(levels, 0, leaf, tiles);
  }
  const size = tree.size + BigInt(leafHashes.length);
  const edge = levels.flatMap((level, l) => (level.count > 0 ? [snapshot(level, l)] : []));
  for (const tile of edge) if (levels[tile.level]!.dirty) tiles.push(tile);
  assertEdgeMatches(size, edge);
  return { size, edge, tiles, root: rootFromEdge(edge) };
}

function loadEdge(tree: TreeEdge): LevelBuffer[] {
  assertEdgeMatches(tree.size, tree.edge);
  const levels: LevelBuffer[] = [];
  for (let l = 0; l < appender_levels_max; l++) {
    const level = new LevelBuffer();
    level.index = (tree.size >> BigInt(8 * l)) / BigInt(tile_width_max);
    levels.push(level);
  }
  for (const tile of tree.edge) {
    const level = levels[tile.level]!;
    level.hashes.set(tile.hashes.subarray(0, tile.width * hash_bytes));
    level.count = tile.width;
  }
  return levels;
}

function assertEdgeMatches(size: bigint, edge: Tile[]): void {
  const expected = partialTilesAt(size);
  assert(
    edge.length === expected.length,
    `edge has ${edge.length} tiles, size ${size} needs ${expected.length}`,
  );
  expected.forEach((want, i) => {
    const got = edge[i]!;
    assert(
      got.level === want.level && got.index === want.index,
      `edge tile ${i} is not ${want.level}/${want.index}`,
    );
    assert(
      got.width === want.width,
      `edge tile ${want.level}/${want.index} width ${got.width} ≠ ${want.width}`,
    );
    assert(got.hashes.length === got.width * hash_bytes, "edge tile length must be width × 32");
  });
}

// Adds one hash at `l`; a tile that fills is emitted and its root carried up.
function push(levels: LevelBuffer[], l: number, hash: Uint8Array, tiles: Tile[]): void {
  const level = levels[l];
  assert(level !== undefined, `tree exceeds ${appender_levels_max} tile levels`);
  level.hashes.set(hash, level.count * hash_bytes);
  level.count++;
  level.dirty = true;
  if (level.count < tile_width_max) return;
  const full = snapshot(level, l);
  tiles.push(full);
  level.count = 0;
  level.index++;
  push(levels, l + 1, perfectRoot(full.hashes, 0, tile_width_max), tiles);
}

function snapshot(level: LevelBuffer, l: number): Tile {
  return {
    level: l,
    index: level.index,
    width: level.count,
    hashes: level.hashes.slice(0, level.count * hash_bytes),
  };
}

// Merkle root of `count` (a power of two) consecutive hashes in a tile.
export function perfectRoot(hashes: Uint8Array, offset: number, count: number): Uint8Array {
  assert(count > 0 && (count & (count - 1)) === 0, `count ${count} must be a power of two`);
  if (count === 1) return hashes.subarray(offset * hash_bytes, (offset + 1) * hash_bytes);
  const half = count / 2;
  return hashChildren(perfectRoot(hashes, offset, half), perfectRoot(hashes, offset + half, half));
}

// The root of the whole tree from its right edge: the edge's entries split into
// perfect subtrees by the bits of each width, from the top level down, are the
// tree's maximal perfect subtrees left to right; RFC 9162's MTH folds them right to left.
export function rootFromEdge(edge: Tile[]): Uint8Array {
  const subtrees: Uint8Array[] = [];
  for (const tile of [...edge].sort((a, b) => b.level - a.level)) {
    let offset = 0;
    for (let bit = 7; bit >= 0; bit--) {
      if ((tile.width & (1 << bit)) === 0) continue;
      subtrees.push(perfectRoot(tile.hashes, offset, 1 << bit));
      offset += 1 << bit;
    }
  }
  if (subtrees.length === 0) return empty_tree_root;
  let root = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i--) root = hashChildren(subtrees[i]!, root);
  return root;
}
