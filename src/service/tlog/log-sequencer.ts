import { createHash } from "node:crypto";
import { assert } from "../../core/assert.ts";
import { tryTransactionLock64 } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { cursorAt, firstUnsequenced, insertLeaves, recordsAfter } from "../../store/log-leaves-sql.ts";
import { insertCheckpoint, insertTiles, latestCheckpoint, selectTiles } from "../../store/log-tree-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { appendLeaves, hashLeaf, partialTilesAt, signCheckpoint, type TreeEdge } from "../../tlog/index.ts";
import { record_leaf_prefix } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import type { LogKeyStore } from "./signing-keys.ts";

// The sequencer: one round takes the records committed so far after its
// cursor, in (xid, id) order (store/log-leaves-sql.ts), gives them consecutive leaf indexes
// as new log_leaves rows (a record is never updated), stores the new tiles and
// signs a checkpoint, all in one database transaction under a per-tenant
// advisory lock. A round that cannot take the lock does nothing: another
// process leads.

export const sequence_batch_max_default = 50_000;
export const sequence_batch_max = 1_000_000;
const leaf_prefix_bytes = new TextEncoder().encode(record_leaf_prefix);

export interface SequenceOptions {
  keys: LogKeyStore;
  batch_max?: number;
  /** The tree edge after the last round, per tenant; reloaded when the stored size differs. */
  cache?: Map<string, TreeEdge>;
}

export type SequenceResult =
  | { status: "busy" } // another process holds the tenant's lock
  | { status: "idle"; size: bigint } // nothing new committed
  | { status: "checkpointed"; size: bigint; appended: number; note: string };

/** A stable 64-bit advisory lock key per tenant's log. */
export function sequencerLockKey(tenant_id: string): bigint {
  return createHash("sha256").update(`clearsplit tlog sequencer\n${tenant_id}`).digest().readBigInt64BE(0);
}

export function leafInputOf(record_sha256: Uint8Array): Uint8Array {
  assert(record_sha256.length === 32, "record_sha256 must be 32 bytes");
  const input = new Uint8Array(leaf_prefix_bytes.length + 32);
  input.set(leaf_prefix_bytes);
  input.set(record_sha256, leaf_prefix_bytes.length);
  return input;
}

export async function sequenceOnce(
  ctx: ServiceContext,
  tenant_id: string,
  options: SequenceOptions,
): Promise<SequenceResult> {
  const batch_max = options.batch_max ?? sequence_batch_max_default;
  assert(Number.isInteger(batch_max) && batch_max >= 1, "batch_max must be a positive integer");
  assert(batch_max <= sequence_batch_max, `batch_max must be at most ${sequence_batch_max}`);
  // Key first: on a tenant's first round it is created outside the log transaction.
  const signer = await options.keys.signer(ctx.db, tenant_id);
  const origin = options.keys.origin(tenant_id);
  const cache = options.cache ?? new Map<string, TreeEdge>();
  const result = await inTransaction(ctx.db, async (tx): Promise<SequenceResult & { edge?: TreeEdge }> => {
    if (!(await tryTransactionLock64(tx, sequencerLockKey(tenant_id)))) return { status: "busy" };
    const latest = await latestCheckpoint(tx, tenant_id);
    const tree = await loadTree(tx, tenant_id, latest?.size ?? 0n, cache.get(tenant_id));
    const cursor = await cursorAt(tx, tenant_id, tree.size);
    const pending = await recordsAfter(tx, tenant_id, cursor, batch_max);
    if (pending.length === 0 && latest !== undefined)
      return { status: "idle", size: latest.size, edge: tree };
    const appended = appendLeaves(
      tree,
      pending.map((row) => hashLeaf(leafInputOf(row.record_sha256))),
    );
    if (pending.length > 0)
      await insertLeaves(
        tx,
        tenant_id,
        tree.size,
        pending.map((row) => row.id),
      );
    await insertTiles(tx, tenant_id, appended.tiles);
    const note = signCheckpoint(origin, appended.size, appended.root, signer);
    await insertCheckpoint(tx, tenant_id, { size: appended.size, root: appended.root, note }, ctx.now());
    return {
      status: "checkpointed",
      size: appended.size,
      appended: pending.length,
      note,
      edge: { size: appended.size, edge: appended.edge },
    };
  });
  // Only a committed round may update the cache; a failed one leaves the old edge.
  if (result.edge) cache.set(tenant_id, result.edge);
  const { edge: _edge, ...outcome } = result;
  return outcome;
}

async function loadTree(
  tx: Queryable,
  tenant_id: string,
  size: bigint,
  cached: TreeEdge | undefined,
): Promise<TreeEdge> {
  if (cached && cached.size === size) return cached;
  const ids = partialTilesAt(size);
  const tiles = await selectTiles(tx, tenant_id, ids);
  assert(tiles.length === ids.length, `log of ${tenant_id} at size ${size} is missing edge tiles`);
  tiles.sort((a, b) => a.level - b.level);
  return { size, edge: tiles };
}

/**
 * Age of the oldest record not yet in a checkpoint, in milliseconds; 0 when
 * none waits. "Oldest" is the first record after the last leaf (see
 * firstUnsequenced): index probes, not a scan, so it is cheap under load.
 */
export async function checkpointLagMs(
  db: Queryable,
  tenant_id: string,
  now: Date = new Date(),
): Promise<number> {
  const oldest = await firstUnsequenced(db, tenant_id);
  if (!oldest) return 0;
  return Math.max(0, now.getTime() - oldest.created_at.getTime());
}
