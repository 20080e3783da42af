import { concatBytes, utf8Encode } from "./bytes.ts";
import { sha256 } from "./hash.ts";
import { canonicalJson } from "./jcs.ts";
import { VerifyError } from "./verify-error.ts";

// ClearSplit leaf rule: leaf input = "clearsplit/v1\n" ‖ SHA-256(salt ‖ JCS(record)).
// The random salt stops anyone who sees only the public log from confirming a
// guessed record (amounts are guessable); parties receive record and salt.
export const record_leaf_prefix = "clearsplit/v1\n";
export const record_salt_bytes = 16;

export async function recordLeafInput(record: unknown, salt: Uint8Array): Promise<Uint8Array> {
  if (!(salt instanceof Uint8Array) || salt.length !== record_salt_bytes) {
    throw new VerifyError("bad_salt", `salt must be ${record_salt_bytes} bytes`);
  }
  const commitment = await sha256(concatBytes(salt, utf8Encode(canonicalJson(record))));
  return concatBytes(utf8Encode(record_leaf_prefix), commitment);
}
