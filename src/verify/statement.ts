import { toBase64, toHex, utf8Encode } from "./bytes.ts";
import { verifyCheckpoint } from "./checkpoint.ts";
import { sha256 } from "./hash.ts";
import { canonicalJson } from "./jcs.ts";
import { verifyNote } from "./note.ts";
import { VerifyError } from "./verify-error.ts";

// A statement that proves itself. The file is the statement's JSON with a
// `manifest`: the SHA-256 of the RFC 8785 form of everything else, the log
// checkpoint the statement was read at (its signed note, as the log signed
// it), and a signed note by the tenant's log key binding the hash to that
// checkpoint. Checking needs no server: the hash, both signatures, the
// checkpoint's agreement with the content, and the statement's own arithmetic
// (opening + lines = closing, per bucket and in total). Runs in browsers too.

export const statement_manifest_version = "clearsplit-statement/v1";
export const statement_bytes_max = 10_000_000;

export interface StatementCheckpoint {
  origin: string;
  size: number;
  root: string;
}

export interface StatementManifest {
  version: string;
  content_sha256: string;
  checkpoint: StatementCheckpoint | null;
  checkpoint_note: string | null;
  /** The log key's signed note over statementSignedText(...). */
  signed_note: string;
  /** The key that signed, for convenience; pin it (`--vkey`) to trust it. */
  vkey: string;
}

/** The text the log key signs: version, origin, content hash, checkpoint. */
export function statementSignedText(
  origin: string,
  content_sha256: string,
  checkpoint: StatementCheckpoint | null,
): string {
  const at = checkpoint === null ? "none" : `${checkpoint.size} ${checkpoint.root}`;
  return `${statement_manifest_version}\n${origin}\nsha256 ${content_sha256}\ncheckpoint ${at}\n`;
}

/** SHA-256 (hex) of the RFC 8785 form of a statement without its manifest. */
export async function statementContentHash(content: unknown): Promise<string> {
  return toHex(await sha256(utf8Encode(canonicalJson(content))));
}

export interface StatementVerification {
  party_id: string;
  currency: string;
  from: string;
  to: string;
  content_sha256: string;
  checkpoint: StatementCheckpoint | null;
  verified_by: string[];
  /** False when the key came from the file itself rather than from the caller. */
  key_pinned: boolean;
}

function fail(code: string, message: string): VerifyError {
  return new VerifyError(code, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a statement file's text; `vkeys` pins the log key(s) to trust. */
export async function verifyStatementText(text: string, vkeys?: string[]): Promise<StatementVerification> {
  if (text.length > statement_bytes_max) throw fail("statement_too_large", "the statement file is too large");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail("statement_malformed", "the statement is not JSON (verify the .json form of a statement)");
  }
  return verifyStatement(parsed, vkeys);
}

export async function verifyStatement(file: unknown, vkeys?: string[]): Promise<StatementVerification> {
  if (!isRecord(file) || !isRecord(file.manifest))
    throw fail("statement_malformed", "the file has no statement manifest");
  const { manifest: manifest_value, ...content } = file;
  const manifest = manifest_value as unknown as StatementManifest;
  if (manifest.version !== statement_manifest_version)
    throw fail("statement_malformed", `unknown manifest version ${JSON.stringify(manifest.version)}`);
  for (const field of ["content_sha256", "signed_note", "vkey"] as const)
    if (typeof manifest[field] !== "string")
      throw fail("statement_malformed", `manifest.${field} is missing`);
  checkArithmetic(content);
  const content_sha256 = await statementContentHash(content);
  if (content_sha256 !== manifest.content_sha256)
    throw fail(
      "statement_altered",
      `the statement's content hashes to ${content_sha256}, but its manifest signs ${manifest.content_sha256}: it was changed`,
    );
  const checkpoint = (content.checkpoint ?? null) as StatementCheckpoint | null;
  if (canonicalJson(checkpoint) !== canonicalJson(manifest.checkpoint ?? null))
    throw fail("statement_altered", "the statement's checkpoint differs from its manifest's");
  const keys = vkeys ?? [manifest.vkey];
  const signed = await verifyNote(manifest.signed_note, keys);
  const origin = signed.text.split("\n")[1] ?? "";
  if (signed.text !== statementSignedText(origin, content_sha256, checkpoint))
    throw fail(
      "statement_signature_mismatch",
      "the signed note does not sign this statement's hash and checkpoint",
    );
  if (checkpoint !== null) {
    if (typeof manifest.checkpoint_note !== "string")
      throw fail("statement_malformed", "manifest.checkpoint_note is missing");
    const verified = await verifyCheckpoint(manifest.checkpoint_note, keys);
    const root = toBase64(verified.rootHash);
    if (
      verified.origin !== checkpoint.origin ||
      verified.size !== BigInt(checkpoint.size) ||
      root !== checkpoint.root
    )
      throw fail("statement_checkpoint_mismatch", "the signed checkpoint is not the one the statement names");
    if (origin !== checkpoint.origin)
      throw fail("statement_checkpoint_mismatch", "the statement was signed for another log");
  }
  return {
    party_id: String(content.party_id),
    currency: String(content.currency),
    from: String(content.from),
    to: String(content.to),
    content_sha256,
    checkpoint,
    verified_by: signed.verifiedBy,
    key_pinned: vkeys !== undefined,
  };
}

function amount(value: unknown, where: string): bigint {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw fail("statement_malformed", `${where} is not an exact integer amount`);
  return BigInt(value);
}

/** opening + Σ lines = closing, in total and per bucket. */
function checkArithmetic(content: Record<string, unknown>): void {
  const sections: [string, unknown][] = [["statement", content]];
  if (Array.isArray(content.buckets))
    content.buckets.forEach((bucket, index) => {
      sections.push([`buckets[${index}]`, bucket]);
    });
  for (const [where, section] of sections) {
    if (!isRecord(section) || !Array.isArray(section.lines))
      throw fail("statement_malformed", `${where} has no lines`);
    let sum = amount(section.opening_minor, `${where}.opening_minor`);
    section.lines.forEach((line, index) => {
      if (!isRecord(line)) throw fail("statement_malformed", `${where}.lines[${index}] is not an object`);
      sum += amount(line.amount_minor, `${where}.lines[${index}].amount_minor`);
    });
    const closing = amount(section.closing_minor, `${where}.closing_minor`);
    if (sum !== closing)
      throw fail("statement_unbalanced", `${where}: opening + lines = ${sum}, but closing says ${closing}`);
  }
}
