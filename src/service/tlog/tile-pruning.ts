import { assert } from "../../core/assert.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { sequencerLockKey } from "./log-sequencer.ts";

// Pruning of superseded partial tiles (docs/decisions.md §27). Each round
// stores the partial tiles of its checkpoint; once a wider tile (a wider
// partial or the full tile) exists at the same level and index, the narrower
// one is a prefix of it, and the tile endpoint and proofs serve it by cutting
// the wider tile (selectCoveringTiles). So a superseded partial tile can go,
// whichever checkpoint a client holds. The database refuses any other delete
// (migration 091).

/** Rows one prune pass deletes at most: a round writes at most eight partial tiles, so this catches up fast. */
export const tile_prune_rows_max = 1_000;

export type PruneResult = { status: "busy" } | { status: "pruned"; rows: number };

/**
 * Deletes up to `rows_max` superseded partial tiles of one tenant, in its own
 * transaction under the sequencer's lock, so it never races a round (or a
 * second pruner) of the same tenant.
 */
export async function pruneTiles(
  db: Database,
  tenant_id: string,
  rows_max: number = tile_prune_rows_max,
): Promise<PruneResult> {
  assert(Number.isInteger(rows_max), "rows_max must be an integer");
  assert(rows_max >= 1 && rows_max <= tile_prune_rows_max * 100, "rows_max out of range");
  return db.transaction(async (tx): Promise<PruneResult> => {
    const [lock] = await tx.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_xact_lock($1::int8) AS locked",
      [sequencerLockKey(tenant_id)],
    );
    if (!lock?.locked) return { status: "busy" };
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
    const rows = Number(deleted?.count ?? -1);
    assert(rows >= 0 && rows <= rows_max, `pruned ${rows} tiles, at most ${rows_max}`);
    return { status: "pruned", rows };
  });
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
