import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { JournalRecord, LogRecordKind } from "../../core/log/records.ts";
import type { Queryable } from "../../store/database.ts";
import { selectLeafRecordHashes } from "../../store/log-leaves-sql.ts";
import { selectRecordWithCheckpoint } from "../../store/log-records-sql.ts";
import {
  checkpointAt,
  latestCheckpoint,
  selectCheckpointSummaries,
  selectCoveringTiles,
  servedNote,
} from "../../store/log-tree-sql.ts";
import { tenantExists } from "../../store/tenants-sql.ts";
import {
  buildProofBundle,
  consistencyProofFromTiles,
  inclusionProofFromTiles,
  tile_width_max,
  tileWidthAt,
} from "../../tlog/index.ts";
import { type ProofBundle, parseCheckpoint, parseNote } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { leafInputOf } from "./log-sequencer.ts";
import { commitJournalRecord, type Disclosure, hashedRecord, isDisclosable } from "./record-disclosure.ts";
import { recordSha256 } from "./record-enqueue.ts";
import { rebuildRecord } from "./record-rebuild.ts";
import { cachedTile, cachedTileFetcher, cacheTile } from "./tile-cache.ts";

// Reads of the log for the API: proof bundles, consistency proofs, tiles and
// checkpoints. Everything comes from stored tiles; nothing is rehashed from leaves.

export interface ProofScope {
  /** The only party whose records the caller may see; null for platform roles and auditors. */
  party_id: string | null;
}

export const checkpoints_page_max = 1_000;
const leaf_input_bytes = 46;

export async function assertTenant(db: Queryable, tenant_id: string): Promise<void> {
  if (!(await tenantExists(db, tenant_id)))
    throw new DomainError("tenant_not_found", `no tenant ${tenant_id}`);
}

/**
 * A record's proof bundle. One round trip after authentication for a journal
 * transaction whose tiles are cached (the usual case): the record with its leaf
 * and checkpoint, and the transaction's business rows, at once; then the tiles
 * of its inclusion proof that the tile cache lacks (usually none).
 */
export async function proofBundle(
  ctx: ServiceContext,
  tenant_id: string,
  record_id: string,
  scope: ProofScope,
): Promise<ProofBundle> {
  // Made only when thrown: an error's stack trace costs more than the rest of a cached proof.
  const notFound = () => new DomainError("record_not_found", `no record ${record_id}`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(record_id)) throw notFound();
  // Most records are journal transactions: their business rows are read at the
  // same time as the log's row, before the kind is known. Nothing of them is
  // used, or returned, until the scope check below has passed.
  const journal = rebuildRecord(ctx.db, tenant_id, "journal_transaction", record_id);
  journal.catch(() => undefined); // awaited below, or abandoned when the record is refused
  const row = await selectRecordWithCheckpoint(ctx.db, tenant_id, record_id);
  // Another party's record is answered exactly like a missing one: no existence oracle.
  if (!row || (scope.party_id !== null && !row.party_ids.includes(scope.party_id))) throw notFound();
  if (row.leaf_index === null) {
    throw new DomainError(
      "record_not_sequenced",
      `record ${record_id} is not in a checkpoint yet; retry in a second`,
    );
  }
  const leaf_index = BigInt(row.leaf_index);
  assert(
    row.checkpoint_size !== null && row.checkpoint_note !== null,
    `leaf ${leaf_index} has no checkpoint`,
  );
  const tree_size = BigInt(row.checkpoint_size);
  assert(tree_size > leaf_index, `checkpoint ${tree_size} does not cover leaf ${leaf_index}`);
  const [record, inclusion_proof] = await Promise.all([
    row.kind === "journal_transaction" ? journal : rebuildRecord(ctx.db, tenant_id, row.kind, record_id),
    inclusionProofFromTiles(leaf_index, tree_size, cachedTileFetcher(ctx.db, tenant_id)),
  ]);
  const seed = row.disclosure_seed === null ? null : Buffer.from(row.disclosure_seed);
  if (
    record === undefined ||
    !Buffer.from(recordSha256(row.salt, hashedRecord(row.kind, record, seed))).equals(
      Buffer.from(row.record_sha256),
    )
  ) {
    throw new DomainError(
      "record_integrity_failed",
      `record ${record_id} no longer matches the log; the operator must run \`clearsplit verify db\``,
    );
  }
  return buildProofBundle({
    origin: parseCheckpoint(parseNote(row.checkpoint_note).text).origin,
    ...disclosed(row.kind, record, seed, scope),
    salt: row.salt,
    leaf_index,
    tree_size,
    inclusion_proof,
    checkpoint: row.checkpoint_note + (row.checkpoint_lines ?? ""),
  });
}

/**
 * What the caller may see of the record: platform roles and auditors every
 * party's part, a party only its own part and the others' commitments. A
 * record written before selective disclosure (no seed) is whole, as it was.
 */
function disclosed(
  kind: LogRecordKind,
  record: unknown,
  seed: Buffer | null,
  scope: ProofScope,
): { record: unknown; disclosures?: Disclosure[] } {
  if (seed === null || !isDisclosable(kind)) return { record };
  const { committed, disclosures } = commitJournalRecord(record as JournalRecord, seed);
  return {
    record: committed,
    disclosures:
      scope.party_id === null ? disclosures : disclosures.filter((part) => part.party_id === scope.party_id),
  };
}

export interface ConsistencyProof {
  from: bigint;
  to: bigint;
  proof: Uint8Array[];
  checkpoint: string;
}

/** A consistency proof between two sizes; `to` must be a checkpointed size (its tiles are kept). */
export async function consistencyProof(
  ctx: ServiceContext,
  tenant_id: string,
  from: bigint,
  to: bigint,
): Promise<ConsistencyProof> {
  if (from < 1n) throw new DomainError("size_invalid", "from must be at least 1", "from");
  if (from > to) throw new DomainError("size_invalid", "from must not exceed to", "from");
  const checkpoint = await checkpointAt(ctx.db, tenant_id, to);
  if (!checkpoint) throw new DomainError("checkpoint_not_found", `no checkpoint of size ${to}`, "to");
  const proof = await consistencyProofFromTiles(from, to, cachedTileFetcher(ctx.db, tenant_id));
  return { from, to, proof, checkpoint: await servedNote(ctx.db, tenant_id, checkpoint) };
}

export async function servedCheckpoint(db: Queryable, tenant_id: string): Promise<string> {
  await assertTenant(db, tenant_id);
  const latest = await latestCheckpoint(db, tenant_id);
  if (!latest) throw new DomainError("checkpoint_not_found", `the log of ${tenant_id} has no checkpoint yet`);
  return servedNote(db, tenant_id, latest);
}

export interface CheckpointSummary {
  size: bigint;
  root: Uint8Array;
  created_at: Date;
  cosignatures: number;
}

export async function listCheckpoints(
  db: Queryable,
  tenant_id: string,
  page: { before?: bigint | undefined; limit: number },
): Promise<CheckpointSummary[]> {
  assert(page.limit >= 1 && page.limit <= checkpoints_page_max, "limit out of range");
  const rows = await selectCheckpointSummaries(db, tenant_id, {
    before: page.before ?? null,
    limit: page.limit,
  });
  return rows.map((row) => ({ ...row, size: BigInt(row.size), cosignatures: Number(row.cosignatures) }));
}

/**
 * A hash tile of any width up to the widest stored at its place, cut from the
 * narrowest stored tile at least that wide: byte for byte the tile of that
 * width, whether or not that partial tile itself was pruned (decision §27).
 */
export async function readTile(
  db: Queryable,
  tenant_id: string,
  level: number,
  index: bigint,
  width: number,
): Promise<Uint8Array | undefined> {
  const cached = cachedTile(db, tenant_id, level, index, width);
  if (cached !== undefined) return cached;
  const [tile] = await selectCoveringTiles(db, tenant_id, [{ level, index, width }]);
  if (tile !== undefined) cacheTile(db, tenant_id, level, index, tile.hashes);
  return tile?.hashes;
}

/**
 * An entries tile: the public leaf inputs ("clearsplit/v1\n" ‖ record hash) of
 * leaves [256·index, 256·index + width), each with a uint16 length prefix. It
 * exists once those leaves are in a checkpoint. Never record contents.
 */
export async function readEntriesTile(
  db: Queryable,
  tenant_id: string,
  index: bigint,
  width: number,
): Promise<Uint8Array | undefined> {
  const latest = await latestCheckpoint(db, tenant_id);
  const first = index * BigInt(tile_width_max);
  if (!latest || first + BigInt(width) > latest.size) return undefined;
  assert(tileWidthAt(latest.size, 0, index) >= width, "entries tile wider than the tree");
  const rows = await selectLeafRecordHashes(db, tenant_id, first, first + BigInt(width));
  assert(rows.length === width, `entries tile ${index}: ${rows.length} of ${width} leaves found`);
  const out = Buffer.alloc(width * (2 + leaf_input_bytes));
  rows.forEach((row, i) => {
    assert(BigInt(row.leaf_index) === first + BigInt(i), "leaf indexes must be contiguous");
    const offset = i * (2 + leaf_input_bytes);
    out.writeUInt16BE(leaf_input_bytes, offset);
    out.set(leafInputOf(row.record_sha256), offset + 2);
  });
  return out;
}
