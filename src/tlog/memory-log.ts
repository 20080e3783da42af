import { assert } from "../core/assert.ts";
import { type AppendResult, appendLeaves, type TreeEdge } from "./appender.ts";
import type { Tile } from "./tile-math.ts";
import type { TileFetcher } from "./tile-proofs.ts";

// An in-memory tiled log: the appender plus a tile map, exactly what the
// database-backed sequencer will do with a `tiles` table. Used by tests, the
// bench, and anything that needs a log without a database.
export class MemoryTiledLog {
  readonly #tiles = new Map<string, Uint8Array>();
  #tree: TreeEdge = { size: 0n, edge: [] };

  get size(): bigint {
    return this.#tree.size;
  }

  append(leafHashes: readonly Uint8Array[]): AppendResult {
    const result = appendLeaves(this.#tree, leafHashes);
    for (const tile of result.tiles) this.#store(tile);
    this.#tree = { size: result.size, edge: result.edge };
    return result;
  }

  #store(tile: Tile): void {
    const key = `${tile.level}/${tile.index}/${tile.width}`;
    assert(!this.#tiles.has(key) || bytesEqual(this.#tiles.get(key)!, tile.hashes), `tile ${key} rewritten`);
    this.#tiles.set(key, tile.hashes);
  }

  readonly fetch: TileFetcher = (level, index, width) => {
    const tile = this.#tiles.get(`${level}/${index}/${width}`);
    assert(tile !== undefined, `tile ${level}/${index}.p/${width} not stored`);
    return tile;
  };

  get tileCount(): number {
    return this.#tiles.size;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
