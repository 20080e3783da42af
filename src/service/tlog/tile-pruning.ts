import { assert } from "../../core/assert.ts";
import { tryTransactionLock64 } from "../../store/advisory-locks-sql.ts";
import type { Database } from "../../store/database.ts";
import { deleteSupersededTiles } from "../../store/log-tree-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { sequencerLockKey } from "./log-sequencer.ts";

export { tileStorage } from "../../store/log-tree-sql.ts";

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
  return inTransaction(db, async (tx): Promise<PruneResult> => {
    if (!(await tryTransactionLock64(tx, sequencerLockKey(tenant_id)))) return { status: "busy" };
    const rows = await deleteSupersededTiles(tx, tenant_id, rows_max);
    assert(rows >= 0 && rows <= rows_max, `pruned ${rows} tiles, at most ${rows_max}`);
    return { status: "pruned", rows };
  });
}
