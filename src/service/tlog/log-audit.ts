import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import {
  countLeavesFrom,
  type LeafRecordRow,
  selectLeafRecords,
  selectRecordsWithoutLeaf,
} from "../../store/log-leaves-sql.ts";
import { selectUnloggedRows } from "../../store/log-records-sql.ts";
import { databaseTileFetcher, selectCheckpoints, selectFullTiles } from "../../store/log-tree-sql.ts";
import {
  hashLeaf,
  MemoryTiledLog,
  rootFromTiles,
  type TileFetcher,
  tile_width_max,
  tileWidthAt,
} from "../../tlog/index.ts";
import { toBase64, verifyCheckpoint } from "../../verify/index.ts";
import { leafInputOf } from "./log-sequencer.ts";
import { hashedRecord } from "./record-disclosure.ts";
import { recordSha256 } from "./record-enqueue.ts";
import { rebuild_batch_max, rebuildable_kinds, rebuildRecords } from "./record-rebuild.ts";
import { logVkey } from "./signing-keys.ts";

// `clearsplit verify db`: the tamper audit. It trusts only the log's signing
// key. Stored tiles are first checked against every signed checkpoint; the
// leaves they authenticate are then compared, one by one, with leaves rebuilt
// from today's business rows and stored salts; finally the journal and the
// policies are checked for rows that never entered the log.

export type FindingKind = "CHANGED" | "DELETED" | "INSERTED" | "UNSEQUENCED" | "LOG";

export interface AuditFinding {
  finding: FindingKind;
  record_kind: string | null;
  record_id: string | null;
  leaf_index: bigint | null;
  detail: string;
}

export interface AuditReport {
  tenant_id: string;
  vkey: string | null;
  size: bigint;
  checkpoints: number;
  leaves_checked: number;
  /** Queued within the grace period: not yet expected in a checkpoint. */
  pending: number;
  /** Leaves of kinds this version cannot rebuild (counted, not judged). */
  unchecked: number;
  findings: AuditFinding[];
  clean: boolean;
}

export interface AuditOptions {
  /** Pinned log keys; default: the vkey recorded in the database. */
  log_keys?: readonly string[];
  /** A queued record older than this and still unsequenced is a finding. Default 60 s. */
  grace_ms?: number;
  now?: Date;
  /** At most this many findings are listed (all are counted). */
  findings_max?: number;
  on_progress?: (done: number, total: number) => void;
}

const findings_max_default = 10_000;

export async function auditLog(
  db: Queryable,
  tenant_id: string,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const findings: AuditFinding[] = [];
  const limit = options.findings_max ?? findings_max_default;
  let found = 0;
  const report = (finding: AuditFinding) => {
    found++;
    if (findings.length < limit) findings.push(finding);
  };
  const recorded = await logVkey(db, tenant_id);
  const vkeys = options.log_keys ?? (recorded ? [recorded] : []);
  const checkpoints = await checkSignedCheckpoints(db, tenant_id, vkeys, report);
  const size = checkpoints.length === 0 ? 0n : checkpoints[checkpoints.length - 1]!.size;
  const tiles = await selectFullTiles(db, tenant_id);
  const fetch = memoryFirstFetcher(tiles, databaseTileFetcher(db, tenant_id));
  for (const checkpoint of checkpoints) {
    const root = await rootFromTiles(checkpoint.size, fetch).catch(() => undefined);
    if (!root || toBase64(root) !== toBase64(checkpoint.root)) {
      report(log(`stored tiles do not give the signed root of checkpoint ${checkpoint.size}`));
    }
  }
  const leaves = await checkLeaves(db, tenant_id, size, fetch, report, options.on_progress);
  const queue = await checkUnlogged(db, tenant_id, options, report);
  return {
    tenant_id,
    vkey: vkeys[0] ?? null,
    size,
    checkpoints: checkpoints.length,
    leaves_checked: leaves.checked,
    pending: queue.pending,
    unchecked: leaves.unchecked,
    findings,
    clean: found === 0,
  };
}

function log(detail: string): AuditFinding {
  return { finding: "LOG", record_kind: null, record_id: null, leaf_index: null, detail };
}

interface SignedCheckpoint {
  size: bigint;
  root: Uint8Array;
}

async function checkSignedCheckpoints(
  db: Queryable,
  tenant_id: string,
  vkeys: readonly string[],
  report: (finding: AuditFinding) => void,
): Promise<SignedCheckpoint[]> {
  const rows = await selectCheckpoints(db, tenant_id);
  if (rows.length > 0 && vkeys.length === 0)
    report(log("checkpoints exist but no log key is recorded or pinned"));
  const signed: SignedCheckpoint[] = [];
  for (const row of rows) {
    const size = BigInt(row.size);
    try {
      const checkpoint = await verifyCheckpoint(row.note, [...vkeys]);
      if (checkpoint.size !== size || toBase64(checkpoint.rootHash) !== toBase64(row.root)) {
        report(log(`checkpoint row ${size} disagrees with its own signed note`));
        continue;
      }
      signed.push({ size, root: checkpoint.rootHash });
    } catch (error) {
      report(log(`checkpoint ${size} is not signed by the log key: ${(error as Error).message}`));
    }
  }
  return signed;
}

function memoryFirstFetcher(tiles: Map<string, Uint8Array>, fallback: TileFetcher): TileFetcher {
  return (level, index, width) => tiles.get(`${level}/${index}/${width}`) ?? fallback(level, index, width);
}

type LeafRow = LeafRecordRow;

/** Compares each authenticated leaf with the leaf rebuilt from business rows, and rebuilds the tree. */
async function checkLeaves(
  db: Queryable,
  tenant_id: string,
  size: bigint,
  fetch: TileFetcher,
  report: (finding: AuditFinding) => void,
  on_progress?: (done: number, total: number) => void,
): Promise<{ checked: number; unchecked: number }> {
  const rebuilt_tree = new MemoryTiledLog();
  let checked = 0;
  let unchecked = 0;
  for (let start = 0n; start < size; start += BigInt(rebuild_batch_max)) {
    const end = start + BigInt(rebuild_batch_max) < size ? start + BigInt(rebuild_batch_max) : size;
    const logged = await authenticatedLeaves(start, end, size, fetch);
    const rows = await selectLeafRecords(db, tenant_id, start, end);
    const by_index = new Map(rows.map((row) => [BigInt(row.leaf_index), row]));
    const rebuilt = await rebuildByKind(db, tenant_id, rows);
    const leaves: Uint8Array[] = [];
    for (let index = start; index < end; index++) {
      const expected = logged[Number(index - start)]!;
      const row = by_index.get(index);
      const leaf = judgeLeaf(index, expected, row, rebuilt, report);
      if (leaf === "unchecked") unchecked++;
      leaves.push(leaf instanceof Uint8Array ? leaf : expected);
      checked++;
    }
    rebuilt_tree.append(leaves);
    on_progress?.(Number(end), Number(size));
  }
  const extra = await countLeavesFrom(db, tenant_id, size);
  if (extra > 0n) report(log(`${extra} leaves hold indexes beyond size ${size}`));
  assert(rebuilt_tree.size === size, "the rebuilt tree must cover the log");
  return { checked, unchecked };
}

/** Leaf hashes [start, end) from level-0 tiles, as authenticated against the checkpoint of `size`. */
async function authenticatedLeaves(
  start: bigint,
  end: bigint,
  size: bigint,
  fetch: TileFetcher,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const width_max = BigInt(tile_width_max);
  for (let tile = start / width_max; tile * width_max < end; tile++) {
    const width = tileWidthAt(size, 0, tile);
    const hashes = await fetch(0, tile, width);
    for (let i = 0; i < width; i++) {
      const index = tile * width_max + BigInt(i);
      if (index >= start && index < end) out.push(hashes.subarray(i * 32, (i + 1) * 32));
    }
  }
  assert(out.length === Number(end - start), "level-0 tiles must cover the range");
  return out;
}

async function rebuildByKind(
  db: Queryable,
  tenant_id: string,
  rows: readonly LeafRow[],
): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const kind of rebuildable_kinds) {
    const ids = rows.filter((row) => row.kind === kind).map((row) => row.id);
    if (ids.length === 0) continue;
    for (const [id, record] of await rebuildRecords(db, tenant_id, kind, ids)) out.set(id, record);
  }
  return out;
}

function judgeLeaf(
  index: bigint,
  expected: Uint8Array,
  row: LeafRow | undefined,
  rebuilt: Map<string, unknown>,
  report: (finding: AuditFinding) => void,
): Uint8Array | "unchecked" | undefined {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  if (!row) {
    report({
      finding: "DELETED",
      record_kind: null,
      record_id: null,
      leaf_index: index,
      detail: "the log record row of this leaf, or its log_leaves row, is gone",
    });
    return undefined;
  }
  const base = { record_kind: row.kind, record_id: row.id, leaf_index: index };
  if (!same(hashLeaf(leafInputOf(row.record_sha256)), expected)) {
    report({ ...base, finding: "CHANGED", detail: "the stored record hash differs from the signed leaf" });
  }
  if (!rebuildable_kinds.includes(row.kind)) return "unchecked";
  const record = rebuilt.get(row.id);
  if (record === undefined) {
    report({ ...base, finding: "DELETED", detail: `the ${row.kind.replaceAll("_", " ")} is gone` });
    return undefined;
  }
  const seed = row.disclosure_seed === null ? null : Buffer.from(row.disclosure_seed);
  const leaf = hashLeaf(leafInputOf(recordSha256(row.salt, hashedRecord(row.kind, record, seed))));
  if (!same(leaf, expected))
    report({ ...base, finding: "CHANGED", detail: describeChange(row.kind, record) });
  return leaf;
}

function describeChange(kind: string, record: unknown): string {
  // Only a journal transaction's entries are postings that must balance; a
  // payout or reconciliation record's lines are not, so name what changed plainly.
  if (kind !== "journal_transaction")
    return `its ${kind.replaceAll("_", " ")} rows now rebuild to a different record`;
  const entries = (record as { entries?: { amount_minor: number; currency: string }[] }).entries;
  if (!Array.isArray(entries)) return "its rows now rebuild to a different record";
  const sums = new Map<string, number>();
  for (const entry of entries) sums.set(entry.currency, (sums.get(entry.currency) ?? 0) + entry.amount_minor);
  const unbalanced = [...sums]
    .filter(([, sum]) => sum !== 0)
    .map(([currency, sum]) => `${currency} ${sum > 0 ? "+" : ""}${sum}`);
  return `its rows now rebuild to a different record (${entries.length} postings${unbalanced.length > 0 ? `, unbalanced by ${unbalanced.join(", ")}` : ""})`;
}

/** Journal rows and published policies with no log record; queued records that never got a leaf. */
async function checkUnlogged(
  db: Queryable,
  tenant_id: string,
  options: AuditOptions,
  report: (finding: AuditFinding) => void,
): Promise<{ pending: number }> {
  const orphans = await selectUnloggedRows(db, tenant_id);
  for (const orphan of orphans) {
    report({
      finding: "INSERTED",
      record_kind: orphan.kind,
      record_id: orphan.id,
      leaf_index: null,
      detail: "no log record: it was written outside ClearSplit's write path",
    });
  }
  const now = options.now ?? new Date();
  const grace_ms = options.grace_ms ?? 60_000;
  // Every record without a leaf, not only those after the sequencer's cursor:
  // a record the cursor has passed without taking is exactly what to report.
  const queued = await selectRecordsWithoutLeaf(db, tenant_id);
  let pending = 0;
  for (const row of queued) {
    if (now.getTime() - row.created_at.getTime() <= grace_ms) {
      pending++;
      continue;
    }
    report({
      finding: "UNSEQUENCED",
      record_kind: row.kind,
      record_id: row.id,
      leaf_index: null,
      detail: `queued at ${row.created_at.toISOString()} and still in no checkpoint (is the sequencer running?)`,
    });
  }
  return { pending };
}
