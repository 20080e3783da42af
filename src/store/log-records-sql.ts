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
