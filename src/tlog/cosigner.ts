import { assert } from "../core/assert.ts";
import { type NoteSigner, signature_type_cosignature_v1, signatureLine } from "./note-signer.ts";

const timestamp_max = (1n << 63n) - 1n;

// tlog-cosignature/v1: the witness signs "cosignature/v1\ntime <ts>\n" ‖ checkpoint
// text, and the signature line carries u64be(ts) ‖ signature (72 bytes).
export function cosignatureLine(
  checkpointText: string,
  witness: NoteSigner,
  timestamp_seconds: bigint,
): string {
  assert(witness.type === signature_type_cosignature_v1, `witness key ${witness.name} is not a 0x04 key`);
  assert(timestamp_seconds >= 0n && timestamp_seconds <= timestamp_max, "timestamp out of range");
  assert(checkpointText.endsWith("\n"), "checkpoint text must end with a newline");
  const message = Buffer.from(`cosignature/v1\ntime ${timestamp_seconds}\n${checkpointText}`, "utf8");
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(timestamp_seconds);
  return signatureLine(witness, Buffer.concat([time, witness.sign(message)]));
}

// Adds signature lines to a signed note (the signature block is its last part).
export function addSignatureLines(note: string, lines: string[]): string {
  assert(note.endsWith("\n"), "note must end with a newline");
  return note + lines.join("");
}
