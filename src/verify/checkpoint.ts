import { fromBase64Strict } from "./bytes.ts";
import { hash_size_bytes } from "./hash.ts";
import { verifyNote } from "./note.ts";
import { VerifyError } from "./verify-error.ts";

// C2SP tlog-checkpoint v1.0.0 (pinned: later drafts change the signature type).
export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
  extensions: string[];
}

function malformed(why: string): VerifyError {
  return new VerifyError("malformed_checkpoint", `malformed checkpoint: ${why}`);
}

const size_pattern = /^(?:0|[1-9][0-9]{0,19})$/;
const size_max = (1n << 64n) - 1n;

export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== "string" || !text.endsWith("\n")) throw malformed("text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const [origin, size_text, root_text, ...extensions] = lines;
  if (origin === undefined || origin.length === 0) throw malformed("empty origin line");
  if (size_text === undefined || !size_pattern.test(size_text)) {
    throw malformed("tree size must be decimal without leading zeros");
  }
  const size = BigInt(size_text);
  if (size > size_max) throw malformed("tree size exceeds 2^64-1");
  const rootHash = root_text === undefined ? undefined : fromBase64Strict(root_text);
  if (rootHash === undefined || rootHash.length !== hash_size_bytes) {
    throw malformed("root hash must be base64 of 32 bytes");
  }
  if (extensions.some((line) => line.length === 0)) throw malformed("extension lines must be non-empty");
  return { origin, size, rootHash, extensions };
}

export async function verifyCheckpoint(
  note: string,
  verifierKeys: string[],
): Promise<{
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
  extensions: string[];
  verifiedBy: string[];
}> {
  const { text, verifiedBy } = await verifyNote(note, verifierKeys);
  return { ...parseCheckpoint(text), verifiedBy };
}
