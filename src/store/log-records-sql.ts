import type { LogRecordKind } from "../core/log/records.ts";
import { arrayLiteral, type Queryable } from "./database.ts";
import type { WriteStep } from "./write-set.ts";

// The one home of the `log_records` table's inserts: each record's salt, its
// commitment and, for a disclosable record, its disclosure seed, as hex text
// (PGlite's array serializer rejects text for bytea[] parameters).

export interface LogRecordRow {
  id: string;
  kind: string;
  salt_hex: string;
  record_sha256_hex: string;
  party_ids: readonly string[];
  disclosure_seed_hex: string | null;
}

/** Inserts log records as one step of a combined write (store/write-set.ts). */
export function logRecordRowsStep(tenant_id: string, rows: readonly LogRecordRow[], now: Date): WriteStep {
  return {
    ctes: [
      [
        "log_record_rows",
        `INSERT INTO log_records (tenant_id, id, kind, salt, record_sha256, party_ids, created_at, disclosure_seed)
         SELECT $1, r.id, r.kind, decode(r.salt, 'hex'), decode(r.sha, 'hex'), r.parties::text[], $7::timestamptz,
                decode(r.seed, 'hex')
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $8::text[])
             AS r(id, kind, salt, sha, parties, seed)
         RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      rows.map((row) => row.id),
      rows.map((row) => row.kind),
      rows.map((row) => row.salt_hex),
      rows.map((row) => row.record_sha256_hex),
      rows.map((row) => arrayLiteral(row.party_ids)),
      now,
      rows.map((row) => row.disclosure_seed_hex),
    ],
  };
}

/** Log records not yet a leaf, over all tenants (the log sequencer's lag, for /metrics). */
export async function unsequencedRecordCount(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: bigint | number }>(
    "SELECT (SELECT count(*) FROM log_records) - (SELECT count(*) FROM log_leaves) AS n",
  );
  return Number(row?.n ?? 0);
}

/** Journal transactions of this party that the checkpoint of `size` leaves does not cover (logged after it, or not yet). */
export async function partyTransactionsAfter(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
  size: number,
): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `WITH last AS (
       SELECT r.xid, r.id FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
        WHERE l.tenant_id = $1 AND l.leaf_index = $3::int8 - 1)
     SELECT count(*) AS count FROM log_records r
      WHERE r.tenant_id = $1 AND r.kind = 'journal_transaction' AND r.party_ids @> ARRAY[$2::text]
        AND (NOT EXISTS (SELECT 1 FROM last) OR (r.xid, r.id) > (SELECT xid, id FROM last))`,
    [tenant_id, party_id, size],
  );
  return Number(row?.count ?? 0);
}

/** Journal transactions and published policies of the tenant that have no log record, by kind then id. */
export function selectUnloggedRows(
  db: Queryable,
  tenant_id: string,
): Promise<{ kind: string; id: string }[]> {
  return db.query<{ kind: string; id: string }>(
    `SELECT 'journal_transaction' AS kind, j.id::text AS id FROM journal_transactions j
      WHERE j.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM log_records r WHERE r.tenant_id = j.tenant_id AND r.id = j.id)
     UNION ALL
     SELECT 'policy', p.id::text FROM policies p
      WHERE p.tenant_id = $1 AND p.status = 'published'
        AND NOT EXISTS (SELECT 1 FROM log_records r WHERE r.tenant_id = p.tenant_id AND r.id = p.id)
     ORDER BY 1, 2`,
    [tenant_id],
  );
}

export interface RecordWithCheckpointRow {
  kind: LogRecordKind;
  salt: Uint8Array;
  disclosure_seed: Uint8Array | null;
  record_sha256: Uint8Array;
  party_ids: string[];
  leaf_index: bigint | null;
  /** The bundle's checkpoint (see below) as served: its size, signed note and cosignature lines. */
  checkpoint_size: bigint | null;
  checkpoint_note: string | null;
  checkpoint_lines: string | null;
}

/**
 * The record, its leaf, and the checkpoint its bundle carries, in one round
 * trip: the newest cosigned checkpoint covering the leaf, else the newest
 * checkpoint. Both are index probes (max over a primary key), however many
 * checkpoints the log has; the cosignature lines come along as the note is served.
 */
export async function selectRecordWithCheckpoint(
  db: Queryable,
  tenant_id: string,
  record_id: string,
): Promise<RecordWithCheckpointRow | undefined> {
  const [row] = await db.query<RecordWithCheckpointRow & Record<string, unknown>>(
    `
  SELECT r.kind, r.salt, r.disclosure_seed, r.record_sha256, r.party_ids, l.leaf_index,
         c.size AS checkpoint_size, c.note AS checkpoint_note,
         (SELECT coalesce(string_agg(s.line, '' ORDER BY s.witness), '') FROM log_cosignatures s
           WHERE s.tenant_id = c.tenant_id AND s.size = c.size) AS checkpoint_lines
    FROM log_records r
    LEFT JOIN log_leaves l ON l.tenant_id = r.tenant_id AND l.record_id = r.id
    LEFT JOIN log_checkpoints c ON c.tenant_id = r.tenant_id AND l.leaf_index IS NOT NULL
     AND c.size = coalesce(
           (SELECT max(s.size) FROM log_cosignatures s WHERE s.tenant_id = r.tenant_id AND s.size > l.leaf_index),
           (SELECT max(k.size) FROM log_checkpoints k WHERE k.tenant_id = r.tenant_id))
   WHERE r.tenant_id = $1 AND r.id = $2::uuid`,
    [tenant_id, record_id],
  );
  return row;
}
