import { randomBytes } from "node:crypto";
import { assert } from "../../core/assert.ts";
import type { LogRecordKind } from "../../core/log/records.ts";
import { saltedCanonicalJsonSha256 } from "../../core/sha256.ts";
import type { Queryable } from "../../store/database.ts";
import { type LogRecordRow, logRecordRowsStep } from "../../store/log-records-sql.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";
import { type LoopSlicer, mapInSlices } from "../slices.ts";
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
  const hashing = new RecordHashing(records.length);
  return logRecordRowsStep(
    tenant_id,
    records.map((item, index) => hashing.row(item, index)),
    now,
  );
}

/**
 * The rows of a large batch's records: each record hashed (salted, with its
 * disclosure commitments) in slices of the event loop (src/service/slices.ts),
 * the heaviest per-order work of booking. Written with logRecordRowsStep.
 */
export async function logRecordRowsInSlices(
  records: readonly LogRecordInput[],
  slicer: LoopSlicer,
): Promise<LogRecordRow[]> {
  if (records.length === 0) return [];
  const hashing = new RecordHashing(records.length);
  return mapInSlices(records, (item, index) => hashing.row(item, index), slicer);
}

/** One batch's salts and disclosure seeds, drawn at once, and the row of each record. */
class RecordHashing {
  private readonly salts: Buffer;
  private readonly seeds: Buffer[];

  constructor(count: number) {
    this.salts = randomBytes(record_salt_bytes * count);
    this.seeds = newDisclosureSeeds(count);
  }

  row(item: LogRecordInput, index: number): LogRecordRow {
    const salt = this.salts.subarray(index * record_salt_bytes, (index + 1) * record_salt_bytes);
    assert(salt.length === record_salt_bytes, "salt has the wrong length");
    // Journal records commit to each party separately (selective disclosure, disclosure.ts).
    const seed = isDisclosable(item.kind) ? this.seeds[index]! : null;
    return {
      id: item.id,
      kind: item.kind,
      // Hex text, not bytea[] parameters: PGlite's array serializer rejects text for bytea.
      salt_hex: salt.toString("hex"),
      record_sha256_hex: recordSha256(salt, hashedRecord(item.kind, item.record, seed)).toString("hex"),
      party_ids: item.party_ids,
      disclosure_seed_hex: seed === null ? null : seed.toString("hex"),
    };
  }
}
