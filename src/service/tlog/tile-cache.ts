import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import { databaseTileFetcher } from "../../store/log-tree-sql.ts";
import { type TileFetcher, tile_width_max } from "../../tlog/index.ts";

// An in-process cache of tile bytes for serving proofs. A stored tile never
// changes: it only grows by appending, and a tile of width W is the first W
// hashes of every wider tile at the same place (decision §27). So the cache
// keeps, per (tenant, level, index), the widest bytes read so far, and answers
// any request no wider than that without the database. A proof of a leaf in
// the log's older part needs only full tiles, which are then always cached;
// only the right-edge partial tiles of a new checkpoint are read, once.

/**
 * Tiles kept per database handle: at most 8 KiB each, and as much again for the
 * inner nodes hashed from them (src/tlog/tile-proofs.ts), so at most 32 MiB.
 */
export const tile_cache_tiles_max = 2_048;

class TileCache {
  readonly #tiles = new Map<string, Uint8Array>();

  get(key: string, width: number): Uint8Array | undefined {
    const hashes = this.#tiles.get(key);
    if (hashes === undefined || hashes.length < width * 32) return undefined;
    // Least recently used goes first: a hit moves the tile to the end.
    this.#tiles.delete(key);
    this.#tiles.set(key, hashes);
    return hashes;
  }

  put(key: string, hashes: Uint8Array): void {
    assert(hashes.length % 32 === 0 && hashes.length <= tile_width_max * 32, "a tile is whole hashes");
    const held = this.#tiles.get(key);
    if (held !== undefined && held.length >= hashes.length) return;
    this.#tiles.delete(key);
    this.#tiles.set(key, hashes);
    while (this.#tiles.size > tile_cache_tiles_max) {
      const oldest = this.#tiles.keys().next().value as string;
      this.#tiles.delete(oldest);
    }
  }
}

// One cache per database handle: tests open many databases with the same tenant names.
const caches = new WeakMap<object, TileCache>();

function cacheOf(db: Queryable): TileCache {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new TileCache();
    caches.set(db, cache);
  }
  return cache;
}

/** A TileFetcher that answers from the cache, and reads (in one batched query) only what it lacks. */
export function cachedTileFetcher(db: Queryable, tenant_id: string): TileFetcher {
  const cache = cacheOf(db);
  const fallback = databaseTileFetcher(db, tenant_id);
  return (level, index, width) => {
    const key = `${tenant_id}/${level}/${index}`;
    const held = cache.get(key, width);
    if (held !== undefined) return held;
    return Promise.resolve(fallback(level, index, width)).then((hashes) => {
      cache.put(key, hashes);
      return hashes;
    });
  };
}

/** A tile cut to `width` from the cache, if the cache holds it at least that wide. */
export function cachedTile(
  db: Queryable,
  tenant_id: string,
  level: number,
  index: bigint,
  width: number,
): Uint8Array | undefined {
  return cacheOf(db)
    .get(`${tenant_id}/${level}/${index}`, width)
    ?.subarray(0, width * 32);
}

export function cacheTile(
  db: Queryable,
  tenant_id: string,
  level: number,
  index: bigint,
  hashes: Uint8Array,
): void {
  cacheOf(db).put(`${tenant_id}/${level}/${index}`, hashes);
}
