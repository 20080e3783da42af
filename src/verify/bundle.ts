import { fromBase64Strict } from "./bytes.ts";
import { verifyCheckpoint } from "./checkpoint.ts";
import { verifyCosignature } from "./cosignature.ts";
import {
  type BundleDisclosure,
  type DisclosedPart,
  recordCommitments,
  verifyDisclosures,
} from "./disclosure.ts";
import { leafHash } from "./hash.ts";
import { verifyInclusion } from "./merkle.ts";
import { recordLeafInput } from "./record-leaf.ts";
import { VerifyError } from "./verify-error.ts";
import { parseVkey } from "./vkey.ts";

// A ClearSplit proof bundle (docs/transparency.md): everything a party needs to
// check offline that one record is in the log at a signed, witnessed checkpoint.
export const bundle_version = 1;
export const bundle_proof_nodes_max = 64;

export interface ProofBundle {
  version: 1;
  origin: string;
  record: unknown;
  /** Opened parts of a committed journal record (selective disclosure); absent for whole records. */
  disclosures?: BundleDisclosure[];
  salt: string; // base64 of 16 bytes
  leaf_index: number;
  tree_size: number;
  inclusion_proof: string[]; // base64 of 32-byte hashes, leaf to root
  checkpoint: string; // signed note: log signature and witness cosignatures
}

export interface BundleVerification {
  origin: string;
  leafIndex: bigint;
  treeSize: bigint;
  rootHash: Uint8Array;
  leafHash: Uint8Array;
  verifiedBy: string[];
  cosignedBy: { name: string; timestamp: bigint }[];
  /** The parts the bundle opened, each proven against its commitment (empty for a whole record). */
  disclosed: DisclosedPart[];
  /** True for a whole record or a full bundle (every part opened); false for a party's bundle. */
  whole: boolean;
}

function malformed(why: string): VerifyError {
  return new VerifyError("malformed_bundle", `malformed proof bundle: ${why}`);
}

function field<T>(ok: boolean, value: unknown, why: string): T {
  if (!ok) throw malformed(why);
  return value as T;
}

function decodeBase64(text: unknown, bytes: number, name: string): Uint8Array {
  const decoded = typeof text === "string" ? fromBase64Strict(text) : undefined;
  if (decoded === undefined || decoded.length !== bytes)
    throw malformed(`${name} must be base64 of ${bytes} bytes`);
  return decoded;
}

interface ParsedBundle {
  origin: string;
  record: unknown;
  disclosures: unknown;
  salt: Uint8Array;
  index: bigint;
  size: bigint;
  proof: Uint8Array[];
  checkpoint: string;
}

export function parseBundle(bundle: unknown): ParsedBundle {
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle))
    throw malformed("not a JSON object");
  const b = bundle as Record<string, unknown>;
  field(b.version === bundle_version, b.version, `version must be ${bundle_version}`);
  const origin = field<string>(
    typeof b.origin === "string" && b.origin.length > 0,
    b.origin,
    "origin missing",
  );
  field(b.record !== undefined, b.record, "record missing");
  const index = field<number>(
    Number.isSafeInteger(b.leaf_index) && (b.leaf_index as number) >= 0,
    b.leaf_index,
    "leaf_index must be an integer ≥ 0",
  );
  const size = field<number>(
    Number.isSafeInteger(b.tree_size) && (b.tree_size as number) > 0,
    b.tree_size,
    "tree_size must be an integer > 0",
  );
  const proof_texts = field<unknown[]>(
    Array.isArray(b.inclusion_proof) && b.inclusion_proof.length <= bundle_proof_nodes_max,
    b.inclusion_proof,
    "inclusion_proof must be an array of hashes",
  );
  const checkpoint = field<string>(
    typeof b.checkpoint === "string",
    b.checkpoint,
    "checkpoint must be a signed note",
  );
  return {
    origin,
    record: b.record,
    disclosures: b.disclosures,
    salt: decodeBase64(b.salt, 16, "salt"),
    index: BigInt(index),
    size: BigInt(size),
    proof: proof_texts.map((text, i) => decodeBase64(text, 32, `inclusion_proof[${i}]`)),
    checkpoint,
  };
}

async function countCosignatures(
  checkpoint: string,
  witnessKeys: string[],
): Promise<{ name: string; timestamp: bigint }[]> {
  const cosignedBy: { name: string; timestamp: bigint }[] = [];
  for (const witnessKey of witnessKeys) {
    try {
      const { timestamp } = await verifyCosignature(checkpoint, witnessKey);
      cosignedBy.push({ name: (await parseVkey(witnessKey)).name, timestamp });
    } catch (error) {
      // A witness that has not cosigned only fails the quorum; a cosignature
      // that is present but invalid means tampering, so it fails the bundle.
      if (error instanceof VerifyError && error.code === "cosignature_missing") continue;
      throw error;
    }
  }
  return cosignedBy;
}

// Throws a VerifyError naming the first check that fails. With witness keys,
// `quorum` of them (default: all) must have cosigned the checkpoint.
export async function verifyBundle(
  bundle: unknown,
  verifierKeys: string[],
  witnessKeys: string[] = [],
  quorum: number = witnessKeys.length,
): Promise<BundleVerification> {
  if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnessKeys.length) {
    throw new VerifyError("bad_quorum", `quorum ${quorum} must be an integer in 0..${witnessKeys.length}`);
  }
  const parsed = parseBundle(bundle);
  const checkpoint = await verifyCheckpoint(parsed.checkpoint, verifierKeys);
  if (checkpoint.origin !== parsed.origin) {
    throw new VerifyError(
      "origin_mismatch",
      `checkpoint origin ${checkpoint.origin} is not ${parsed.origin}`,
    );
  }
  if (checkpoint.size !== parsed.size) {
    throw new VerifyError(
      "size_mismatch",
      `checkpoint size ${checkpoint.size} is not tree_size ${parsed.size}`,
    );
  }
  // Disclosed parts first: a bundle whose parts do not open their commitments proves nothing.
  const { disclosed, whole } = await verifyDisclosures(recordCommitments(parsed.record), parsed.disclosures);
  const leaf = await leafHash(await recordLeafInput(parsed.record, parsed.salt));
  if (!(await verifyInclusion(leaf, parsed.index, parsed.size, parsed.proof, checkpoint.rootHash))) {
    throw new VerifyError("inclusion_invalid", `record is not at leaf ${parsed.index} of the signed tree`);
  }
  const cosignedBy = await countCosignatures(parsed.checkpoint, witnessKeys);
  if (cosignedBy.length < quorum) {
    throw new VerifyError(
      "quorum_not_met",
      `${cosignedBy.length} of the required ${quorum} witnesses cosigned`,
    );
  }
  return {
    origin: checkpoint.origin,
    leafIndex: parsed.index,
    treeSize: parsed.size,
    rootHash: checkpoint.rootHash,
    leafHash: leaf,
    verifiedBy: checkpoint.verifiedBy,
    cosignedBy,
    disclosed,
    whole,
  };
}
