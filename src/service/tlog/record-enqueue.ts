import { randomBytes } from "node:crypto";
import { assert } from "../../core/assert.ts";
import { canonicalJson } from "../../core/jcs.ts";
import type { LogRecordKind } from "../../core/log/records.ts";
import { sha256Bytes } from "../../core/sha256.ts";
import { arrayLiteral, type Queryable } from "../../store/database.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";

export const record_salt_bytes = 16;

export interface LogRecordInput {
  id: string;
  kind: LogRecordKind;
  record: unknown;
  party_ids: readonly string[];
}

/** SHA-256(salt ‖ JCS(record)): the part of the leaf input that commits to the record. */
export function recordSha256(salt: Uint8Array, record: unknown): Buffer {
  return sha256Bytes(salt, canonicalJson(record));
}

/**
 * Queues records for the transparency log inside the caller's business
 * transaction. The sequencer assigns leaf indexes later; writers never wait.
 */
export async function enqueueLogRecords(
  tx: Queryable,
  tenant_id: string,
  records: readonly LogRecordInput[],
  now: Date,
): Promise<void> {
  await writeSteps(tx, [logRecordsWrite(tenant_id, records, now)]);
}

/** The same, as one step of a combined write (src/store/write-set.ts). */
export function logRecordsWrite(
  tenant_id: string,
  records: readonly LogRecordInput[],
  now: Date,
): WriteStep | null {
  if (records.length === 0) return null;
  const salts = randomBytes(record_salt_bytes * records.length);
  // Hex text, not bytea[] parameters: PGlite's array serializer rejects text for bytea.
  const salt_hex: string[] = [];
  const sha_hex: string[] = [];
  records.forEach((item, index) => {
    const salt = salts.subarray(index * record_salt_bytes, (index + 1) * record_salt_bytes);
    assert(salt.length === record_salt_bytes, "salt has the wrong length");
    salt_hex.push(salt.toString("hex"));
    sha_hex.push(recordSha256(salt, item.record).toString("hex"));
  });
  return {
    ctes: [
      [
        "log_record_rows",
        `INSERT INTO log_records (tenant_id, id, kind, salt, record_sha256, party_ids, created_at)
         SELECT $1, r.id, r.kind, decode(r.salt, 'hex'), decode(r.sha, 'hex'), r.parties::text[], $7::timestamptz
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]) AS r(id, kind, salt, sha, parties)
         RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      records.map((item) => item.id),
      records.map((item) => item.kind),
      salt_hex,
      sha_hex,
      records.map((item) => arrayLiteral(item.party_ids)),
      now,
    ],
  };
}
