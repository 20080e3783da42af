import { createHmac, randomBytes } from "node:crypto";
import { assert } from "../../core/assert.ts";
import {
  type CommittedJournalRecord,
  type JournalRecord,
  type JournalRecordPart,
  journalRecordParts,
  type LogRecordKind,
} from "../../core/log/records.ts";
import { saltedCanonicalJsonSha256 } from "../../core/sha256.ts";

// Selective disclosure of journal records (docs/transparency.md). The log
// hashes a committed record: the header and one salted commitment per party.
// A party's bundle discloses its own part and salt; a full bundle discloses
// every part. The per-party salts come from a per-record seed that stays on
// the server (migration 010), so no bundle lets one party test another's.

export const disclosure_seed_bytes = 16;
export const party_salt_bytes = 16;

/** A disclosed part: the party's entries and the salt that opens its commitment. */
export interface Disclosure extends JournalRecordPart {
  /** Base64 of party_salt_bytes. */
  salt: string;
}

export function newDisclosureSeed(): Buffer {
  return randomBytes(disclosure_seed_bytes);
}

/** `count` seeds from one call to the random source (booking asks for one per journal record). */
export function newDisclosureSeeds(count: number): Buffer[] {
  const bytes = randomBytes(disclosure_seed_bytes * count);
  const seeds: Buffer[] = new Array(count);
  for (let index = 0; index < count; index++)
    seeds[index] = bytes.subarray(index * disclosure_seed_bytes, (index + 1) * disclosure_seed_bytes);
  return seeds;
}

export function partySalt(seed: Uint8Array, party_id: string): Buffer {
  assert(seed.length === disclosure_seed_bytes, "a disclosure seed has 16 bytes");
  return createHmac("sha256", seed)
    .update(`clearsplit/party-salt\n${party_id}`)
    .digest()
    .subarray(0, party_salt_bytes);
}

export function partCommitment(salt: Uint8Array, part: JournalRecordPart): string {
  return saltedCanonicalJsonSha256(salt, part).toString("hex");
}

/** Whether records of this kind are committed per party (the others are logged whole). */
export function isDisclosable(kind: LogRecordKind): boolean {
  return kind === "journal_transaction";
}

/** The committed record and every party's disclosure. */
export function commitJournalRecord(
  record: JournalRecord,
  seed: Uint8Array,
): { committed: CommittedJournalRecord; disclosures: Disclosure[] } {
  const { header, parts } = journalRecordParts(record);
  const disclosures: Disclosure[] = [];
  const commitments: string[] = [];
  for (const part of parts) {
    const salt = partySalt(seed, part.party_id);
    commitments.push(partCommitment(salt, part));
    disclosures.push({ ...part, salt: salt.toString("base64") });
  }
  commitments.sort();
  return { committed: { ...header, party_commitments: commitments }, disclosures };
}

/**
 * The committed record alone: what booking hashes for every journal record,
 * so it skips building the disclosures (copies of every part with its salt in
 * base64) that only a proof bundle reads. Same result as commitJournalRecord.
 */
export function committedJournalRecord(record: JournalRecord, seed: Uint8Array): CommittedJournalRecord {
  const { header, parts } = journalRecordParts(record);
  const commitments: string[] = new Array(parts.length);
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index]!;
    commitments[index] = partCommitment(partySalt(seed, part.party_id), part);
  }
  commitments.sort();
  return { ...header, party_commitments: commitments };
}

/** What the log hashes for a record: the committed form when it has a seed, else the record itself. */
export function hashedRecord(kind: LogRecordKind, record: unknown, seed: Uint8Array | null): unknown {
  if (seed === null || !isDisclosable(kind)) return record;
  return committedJournalRecord(record as JournalRecord, seed);
}
