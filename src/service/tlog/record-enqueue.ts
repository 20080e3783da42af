import { randomBytes } from "node:crypto";
import { assert } from "../../core/assert.ts";
import type { LogRecordKind } from "../../core/log/records.ts";
import { saltedCanonicalJsonSha256 } from "../../core/sha256.ts";
import type { Queryable } from "../../store/database.ts";
import { logRecordRowsStep } from "../../store/log-records-sql.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";
import { hashedRecord, isDisclosable, newDisclosureSeeds } from "./record-disclosure.ts";

export const record_salt_bytes = 16;

export interface LogRecordInput {
  id: string;
  kind: LogRecordKind;
  record: unknown;
  party_ids: readonly string[];
}

/** SHA-256(salt ‖ JCS(record)): the part of the leaf input that commits to the record. */
export function recordSha256(salt: Uint8Array, record: unknown): Buffer {
  return saltedCanonicalJsonSha256(salt, record);
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
  const seed_hex: (string | null)[] = [];
  const seeds = newDisclosureSeeds(records.length);
  records.forEach((item, index) => {
    const salt = salts.subarray(index * record_salt_bytes, (index + 1) * record_salt_bytes);
    assert(salt.length === record_salt_bytes, "salt has the wrong length");
    salt_hex.push(salt.toString("hex"));
    // Journal records commit to each party separately (selective disclosure, disclosure.ts).
    const seed = isDisclosable(item.kind) ? seeds[index]! : null;
    seed_hex.push(seed === null ? null : seed.toString("hex"));
    sha_hex.push(recordSha256(salt, hashedRecord(item.kind, item.record, seed)).toString("hex"));
  });
  return logRecordRowsStep(
    tenant_id,
    records.map((item, index) => ({
      id: item.id,
      kind: item.kind,
      salt_hex: salt_hex[index]!,
      record_sha256_hex: sha_hex[index]!,
      party_ids: item.party_ids,
      disclosure_seed_hex: seed_hex[index]!,
    })),
    now,
  );
}
