import type { Queryable } from "../../store/database.ts";
import { databaseTileFetcher, hasCheckpoint, latestCheckpointSize } from "../../store/log-tree-sql.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import { rootFromTiles } from "../../tlog/index.ts";
import { parseCheckpoint, parseNote, toHex, verifyCheckpoint } from "../../verify/index.ts";
import { checkLedgerIntegrity, type LedgerFinding } from "../ledger/integrity.ts";
import { servedCheckpoint } from "../tlog/proofs.ts";
import { logVkey } from "../tlog/signing-keys.ts";

// A backup's manifest: what the backup must prove once restored. For every
// tenant, the latest signed checkpoint (with its witnesses' cosignatures)
// taken in the same snapshot as the data, and the log's verification key;
// and the SHA-256 of the backup file itself.

export const manifest_format = "clearsplit-backup/1";

export interface TenantCheckpoint {
  tenant_id: string;
  vkey: string | null;
  /** The served note (signed checkpoint plus cosignature lines), or null when the log has none yet. */
  checkpoint: string | null;
  size: string;
  root_hex: string | null;
  cosignatures: number;
}

export interface BackupManifest {
  format: typeof manifest_format;
  backend: "postgres" | "pglite";
  created_at: string;
  /** The data file, next to the manifest. */
  file: string;
  bytes: number;
  sha256: string;
  tenants: TenantCheckpoint[];
}

/** Every tenant's latest checkpoint as the given snapshot (transaction) sees it. */
export async function tenantCheckpoints(db: Queryable): Promise<TenantCheckpoint[]> {
  const out: TenantCheckpoint[] = [];
  for (const id of await selectTenantIds(db)) {
    const vkey = (await logVkey(db, id)) ?? null;
    if (!(await hasCheckpoint(db, id))) {
      out.push({ tenant_id: id, vkey, checkpoint: null, size: "0", root_hex: null, cosignatures: 0 });
      continue;
    }
    const note = await servedCheckpoint(db, id);
    const checkpoint = parseCheckpoint(parseNote(note).text);
    out.push({
      tenant_id: id,
      vkey,
      checkpoint: note,
      size: checkpoint.size.toString(),
      root_hex: toHex(checkpoint.rootHash),
      cosignatures: note.split("\n").filter((line) => line.startsWith("— ")).length - 1,
    });
  }
  return out;
}

export interface RestoreCheck {
  tenant_id: string;
  /** Size of the restored log (its latest checkpoint). */
  restored_size: bigint;
  checks: string[];
  problems: string[];
  ledger_findings: LedgerFinding[];
}

/**
 * Checks a restored database against signed checkpoints: each one's signature
 * under the log key, and the root recomputed from the restored tiles at that
 * size; then the ledger (trial balance, balances against postings).
 */
export async function verifyRestored(
  db: Queryable,
  expected: { tenant_id: string; vkey: string | null; notes: { source: string; note: string }[] }[],
): Promise<RestoreCheck[]> {
  const results: RestoreCheck[] = [];
  for (const tenant of expected) {
    const checks: string[] = [];
    const problems: string[] = [];
    const restored_size = await latestCheckpointSize(db, tenant.tenant_id);
    const vkey = tenant.vkey ?? (await logVkey(db, tenant.tenant_id)) ?? null;
    for (const { source, note } of tenant.notes) {
      try {
        if (vkey === null) throw new Error("no log key to check the signature with");
        const checkpoint = await verifyCheckpoint(note, [vkey]);
        if (checkpoint.size > restored_size) {
          problems.push(
            `${source}: the restored log has ${restored_size} leaves, behind the signed checkpoint of size ${checkpoint.size}`,
          );
          continue;
        }
        const root = await rootFromTiles(checkpoint.size, databaseTileFetcher(db, tenant.tenant_id));
        if (toHex(root) !== toHex(checkpoint.rootHash)) {
          problems.push(`${source}: the restored tiles give a different root at size ${checkpoint.size}`);
          continue;
        }
        checks.push(
          `${source}: root at size ${checkpoint.size} recomputed and matches the signed checkpoint`,
        );
      } catch (error) {
        problems.push(`${source}: ${(error as Error).message}`);
      }
    }
    const ledger = await checkLedgerIntegrity(db, tenant.tenant_id);
    if (ledger.clean)
      checks.push(`ledger: trial balance zero, ${ledger.accounts} accounts' balances equal their postings`);
    results.push({
      tenant_id: tenant.tenant_id,
      restored_size,
      checks,
      problems,
      ledger_findings: ledger.findings,
    });
  }
  return results;
}
