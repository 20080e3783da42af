import { concatBytes, fromBase64Strict, toHex, utf8Encode } from "./bytes.ts";
import { sha256 } from "./hash.ts";
import { canonicalJson } from "./jcs.ts";
import { VerifyError } from "./verify-error.ts";

// Selective disclosure (docs/transparency.md): a committed journal record
// carries `party_commitments`, hex SHA-256(party salt ‖ JCS({entries,
// party_id})), sorted. A bundle discloses some parts with their salts; each
// must open one of the commitments. A party's bundle opens its own; a full
// bundle opens every one.
export const party_commitments_max = 1_024;
const hex_hash = /^[0-9a-f]{64}$/;

export interface BundleDisclosure {
  party_id: string;
  salt: string; // base64 of 16 bytes
  entries: unknown[];
}

export interface DisclosedPart {
  party_id: string;
  entries: unknown[];
}

function malformed(why: string): VerifyError {
  return new VerifyError("malformed_bundle", `malformed proof bundle: ${why}`);
}

/** The record's commitments, or null when the record is whole (not committed per party). */
export function recordCommitments(record: unknown): string[] | null {
  if (typeof record !== "object" || record === null || !("party_commitments" in record)) return null;
  const list = (record as { party_commitments: unknown }).party_commitments;
  if (!Array.isArray(list) || list.length === 0 || list.length > party_commitments_max)
    throw malformed(`party_commitments must be a list of 1 to ${party_commitments_max} hashes`);
  list.forEach((item, index) => {
    if (typeof item !== "string" || !hex_hash.test(item))
      throw malformed(`party_commitments[${index}] must be a lowercase hex SHA-256`);
    if (index > 0 && !(list[index - 1] < item))
      throw malformed("party_commitments must be sorted and distinct");
  });
  return list as string[];
}

/**
 * Checks each disclosed part against the record's commitments; returns the
 * parts and whether they open every commitment (a full bundle).
 */
export async function verifyDisclosures(
  commitments: readonly string[] | null,
  disclosures: unknown,
): Promise<{ disclosed: DisclosedPart[]; whole: boolean }> {
  if (commitments === null) {
    if (disclosures !== undefined)
      throw malformed("disclosures given for a record without party_commitments");
    return { disclosed: [], whole: true };
  }
  if (!Array.isArray(disclosures) || disclosures.length === 0 || disclosures.length > commitments.length)
    throw malformed(`disclosures must list 1 to ${commitments.length} parts of the record`);
  const opened = new Set<string>();
  const disclosed: DisclosedPart[] = [];
  for (const [index, item] of disclosures.entries()) {
    if (typeof item !== "object" || item === null) throw malformed(`disclosures[${index}] is not an object`);
    const { party_id, salt, entries } = item as Record<string, unknown>;
    if (typeof party_id !== "string" || party_id.length === 0)
      throw malformed(`disclosures[${index}].party_id missing`);
    if (!Array.isArray(entries) || entries.length === 0)
      throw malformed(`disclosures[${index}].entries must be a non-empty list`);
    const salt_bytes = typeof salt === "string" ? fromBase64Strict(salt) : undefined;
    if (salt_bytes === undefined || salt_bytes.length !== 16)
      throw malformed(`disclosures[${index}].salt must be base64 of 16 bytes`);
    const commitment = toHex(
      await sha256(concatBytes(salt_bytes, utf8Encode(canonicalJson({ entries, party_id })))),
    );
    if (!commitments.includes(commitment)) {
      throw new VerifyError(
        "disclosure_mismatch",
        `the disclosed entries of party ${party_id} do not match any commitment in the record`,
      );
    }
    if (opened.has(commitment)) throw malformed(`disclosures[${index}] repeats an earlier part`);
    opened.add(commitment);
    disclosed.push({ party_id, entries });
  }
  return { disclosed, whole: opened.size === commitments.length };
}
