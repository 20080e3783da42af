import { assert } from "../core/assert.ts";
import { type Tile, type TileFetcher, type TileId, tile_width_max } from "../tlog/index.ts";
import type { Queryable } from "./database.ts";

// SQL for the log's tiles and checkpoints. Tiles are read in batches: a proof
// asks for all its tiles in one synchronous pass, so a fetcher that waits one
// microtask before querying gets every tile of the proof in one round trip.

const tile_batch_max = 1000;

export interface CheckpointRow {
  size: bigint;
  root: Uint8Array;
  note: string;
  created_at: Date;
  [key: string]: unknown;
}

export async function latestCheckpoint(db: Queryable, tenant_id: string): Promise<CheckpointRow | undefined> {
  const rows = await db.query<CheckpointRow>(
    "SELECT size, root, note, created_at FROM log_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
    [tenant_id],
  );
  return rows[0];
}

/** Whether the tenant's log has signed any checkpoint. */
export async function hasCheckpoint(db: Queryable, tenant_id: string): Promise<boolean> {
  const [has] = await db.query("SELECT 1 FROM log_checkpoints WHERE tenant_id = $1 LIMIT 1", [tenant_id]);
  return has !== undefined;
}

/** The size of the tenant's latest checkpoint; 0 when there is none. */
export async function latestCheckpointSize(db: Queryable, tenant_id: string): Promise<bigint> {
  const [latest] = await db.query<{ size: bigint }>(
    "SELECT coalesce(max(size), 0)::int8 AS size FROM log_checkpoints WHERE tenant_id = $1",
    [tenant_id],
  );
  return latest?.size ?? 0n;
}

export async function checkpointAt(
  db: Queryable,
  tenant_id: string,
  size: bigint,
): Promise<CheckpointRow | undefined> {
  const rows = await db.query<CheckpointRow>(
    "SELECT size, root, note, created_at FROM log_checkpoints WHERE tenant_id = $1 AND size = $2",
    [tenant_id, size],
  );
  return rows[0];
}

/** The note as served: the log's signature, then every stored cosignature line. */
export async function servedNote(
  db: Queryable,
  tenant_id: string,
  checkpoint: CheckpointRow,
): Promise<string> {
  const lines = await db.query<{ line: string }>(
    "SELECT line FROM log_cosignatures WHERE tenant_id = $1 AND size = $2 ORDER BY witness",
    [tenant_id, checkpoint.size],
  );
  return checkpoint.note + lines.map((row) => row.line).join("");
}

/** Stores the signed checkpoint of a round; the primary key refuses a size signed twice. */
export async function insertCheckpoint(
  tx: Queryable,
  tenant_id: string,
  checkpoint: { size: bigint; root: Uint8Array; note: string },
  now: Date,
): Promise<void> {
  assert(checkpoint.root.length === 32, "a checkpoint root is 32 bytes");
  await tx.query(
    `INSERT INTO log_checkpoints (tenant_id, size, root, note, created_at)
     VALUES ($1, $2, decode($3, 'hex'), $4, $5)`,
    [tenant_id, checkpoint.size, Buffer.from(checkpoint.root).toString("hex"), checkpoint.note, now],
  );
}

export async function selectTiles(db: Queryable, tenant_id: string, ids: readonly TileId[]): Promise<Tile[]> {
  if (ids.length === 0) return [];
  assert(ids.length <= tile_batch_max, `at most ${tile_batch_max} tiles per query`);
  const rows = await db.query<{ level: number; tile_index: bigint; width: number; hashes: Uint8Array }>(
    `SELECT t.level, t.tile_index, t.width, t.hashes
       FROM unnest($2::int2[], $3::int8[], $4::int2[]) AS k(level, tile_index, width)
       JOIN log_tiles t ON t.tenant_id = $1 AND t.level = k.level AND t.tile_index = k.tile_index AND t.width = k.width`,
    [tenant_id, ids.map((id) => id.level), ids.map((id) => id.index), ids.map((id) => id.width)],
  );
  return rows.map((row) => ({
    level: Number(row.level),
    index: BigInt(row.tile_index),
    width: Number(row.width),
    hashes: row.hashes,
  }));
}

/**
 * For each id, the narrowest stored tile at its level and index that is at
 * least as wide, cut to the width asked for. A tile only grows by appending, so
 * that is byte for byte the tile of that width, whether or not it was pruned
 * (decision §27). Ids with no such tile are left out.
 */
export async function selectCoveringTiles(
  db: Queryable,
  tenant_id: string,
  ids: readonly TileId[],
): Promise<Tile[]> {
  if (ids.length === 0) return [];
  assert(ids.length <= tile_batch_max, `at most ${tile_batch_max} tiles per query`);
  const rows = await db.query<{ level: number; tile_index: bigint; width: number; hashes: Uint8Array }>(
    `SELECT k.level, k.tile_index, k.width, substring(c.hashes FROM 1 FOR 32 * k.width) AS hashes
       FROM unnest($2::int2[], $3::int8[], $4::int2[]) AS k(level, tile_index, width)
       CROSS JOIN LATERAL (
         SELECT t.hashes FROM log_tiles t
          WHERE t.tenant_id = $1 AND t.level = k.level AND t.tile_index = k.tile_index AND t.width >= k.width
          ORDER BY t.width LIMIT 1) AS c`,
    [tenant_id, ids.map((id) => id.level), ids.map((id) => id.index), ids.map((id) => id.width)],
  );
  return rows.map((row) => {
    const tile = {
      level: Number(row.level),
      index: BigInt(row.tile_index),
      width: Number(row.width),
      hashes: row.hashes,
    };
    assert(tile.hashes.length === tile.width * 32, `tile ${tile.level}/${tile.index} cut to its width`);
    return tile;
  });
}

export async function insertTiles(tx: Queryable, tenant_id: string, tiles: readonly Tile[]): Promise<void> {
  for (let start = 0; start < tiles.length; start += tile_batch_max) {
    const batch = tiles.slice(start, start + tile_batch_max);
    // bytea travels as hex text: bytea[] parameters are not portable across the two drivers.
    await tx.query(
      `INSERT INTO log_tiles (tenant_id, level, tile_index, width, hashes)
       SELECT $1, k.level, k.tile_index, k.width, decode(k.hashes, 'hex')
         FROM unnest($2::int2[], $3::int8[], $4::int2[], $5::text[]) AS k(level, tile_index, width, hashes)`,
      [
        tenant_id,
        batch.map((tile) => tile.level),
        batch.map((tile) => tile.index),
        batch.map((tile) => tile.width),
        batch.map((tile) =>
          Buffer.from(tile.hashes.buffer, tile.hashes.byteOffset, tile.hashes.length).toString("hex"),
        ),
      ],
    );
  }
}

/**
 * A TileFetcher over the database that collects every request made in one
 * synchronous pass and answers them with one query. A pruned partial tile is
 * read from the wider tile that superseded it. Missing tiles reject: every
 * checkpointed size is covered by stored tiles, so a miss is a broken invariant.
 */
export function databaseTileFetcher(db: Queryable, tenant_id: string): TileFetcher {
  let pending: { id: TileId; resolve: (hashes: Uint8Array) => void; reject: (error: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const found = new Map<string, Uint8Array>();
      for (let start = 0; start < batch.length; start += tile_batch_max) {
        const ids = batch.slice(start, start + tile_batch_max).map((item) => item.id);
        for (const tile of await selectCoveringTiles(db, tenant_id, ids))
          found.set(`${tile.level}/${tile.index}/${tile.width}`, tile.hashes);
      }
      for (const item of batch) {
        const hashes = found.get(`${item.id.level}/${item.id.index}/${item.id.width}`);
        if (hashes) item.resolve(hashes);
        else
          item.reject(new Error(`tile ${item.id.level}/${item.id.index}.p/${item.id.width} is not stored`));
      }
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };
  return (level, index, width) => {
    assert(width >= 1 && width <= tile_width_max, `tile width ${width} out of range`);
    return new Promise<Uint8Array>((resolve, reject) => {
      if (pending.length === 0) queueMicrotask(() => void flush());
      pending.push({ id: { level, index, width }, resolve, reject });
    });
  };
}

/**
 * Deletes up to `rows_max` partial tiles that a wider stored tile at the same
 * level and index supersedes (the trigger of migration 091 checks each is a
 * prefix of it). The partial index log_tiles_partial keeps the scan to the few
 * partial tiles left, however many full tiles the log has.
 */
export async function deleteSupersededTiles(
  tx: Queryable,
  tenant_id: string,
  rows_max: number,
): Promise<number> {
  const [deleted] = await tx.query<{ count: bigint }>(
    `WITH doomed AS (
       SELECT p.level, p.tile_index, p.width FROM log_tiles p
        WHERE p.tenant_id = $1 AND p.width < 256
          AND EXISTS (SELECT 1 FROM log_tiles w
                       WHERE w.tenant_id = p.tenant_id AND w.level = p.level
                         AND w.tile_index = p.tile_index AND w.width > p.width)
        ORDER BY p.level, p.tile_index, p.width
        LIMIT $2),
     deleted AS (
       DELETE FROM log_tiles t USING doomed d
        WHERE t.tenant_id = $1 AND t.level = d.level AND t.tile_index = d.tile_index AND t.width = d.width
       RETURNING 1)
     SELECT count(*) AS count FROM deleted`,
    [tenant_id, rows_max],
  );
  return Number(deleted?.count ?? -1);
}

/** Stored tile rows and hash bytes of one tenant's log (the figure pruning shrinks). */
export async function tileStorage(
  db: Queryable,
  tenant_id: string,
): Promise<{ rows: number; bytes: number }> {
  const [row] = await db.query<{ rows: bigint; bytes: bigint | null }>(
    "SELECT count(*) AS rows, sum(octet_length(hashes)) AS bytes FROM log_tiles WHERE tenant_id = $1",
    [tenant_id],
  );
  return { rows: Number(row?.rows ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/** Every checkpoint of the tenant's log, smallest first (the tamper audit checks each signature). */
export function selectCheckpoints(
  db: Queryable,
  tenant_id: string,
): Promise<{ size: bigint; root: Uint8Array; note: string }[]> {
  return db.query<{ size: bigint; root: Uint8Array; note: string }>(
    "SELECT size, root, note FROM log_checkpoints WHERE tenant_id = $1 ORDER BY size",
    [tenant_id],
  );
}

export interface CheckpointSummaryRow {
  size: bigint;
  root: Uint8Array;
  created_at: Date;
  cosignatures: bigint;
}

/** Checkpoints newest first, those below `before` when given, `limit` rows, each with its count of cosignatures. */
export function selectCheckpointSummaries(
  db: Queryable,
  tenant_id: string,
  page: { before: bigint | null; limit: number },
): Promise<CheckpointSummaryRow[]> {
  assert(page.limit >= 1, "a page reads at least one row");
  return db.query<CheckpointSummaryRow & Record<string, unknown>>(
    `SELECT c.size, c.root, c.created_at,
            (SELECT count(*) FROM log_cosignatures s WHERE s.tenant_id = c.tenant_id AND s.size = c.size) AS cosignatures
       FROM log_checkpoints c
      WHERE c.tenant_id = $1 AND ($2::int8 IS NULL OR c.size < $2::int8)
      ORDER BY c.size DESC LIMIT $3`,
    [tenant_id, page.before, page.limit],
  );
}

/** Every full-width (256) tile of the tenant's log, keyed "level/index/256". */
export async function selectFullTiles(db: Queryable, tenant_id: string): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ level: number; tile_index: bigint; hashes: Uint8Array }>(
    "SELECT level, tile_index, hashes FROM log_tiles WHERE tenant_id = $1 AND width = 256",
    [tenant_id],
  );
  return new Map(rows.map((row) => [`${row.level}/${row.tile_index}/256`, row.hashes]));
}
