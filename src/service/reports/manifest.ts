import { assert } from "../../core/assert.ts";
import { toJsonText } from "../../core/json.ts";
import type { Statement } from "../../core/reports/statement-fold.ts";
import { checkpointAt } from "../../store/log-tree-sql.ts";
import { signNote } from "../../tlog/index.ts";
import {
  type StatementManifest,
  statement_manifest_version,
  statementContentHash,
  statementSignedText,
} from "../../verify/statement.ts";
import type { ServiceContext } from "../context.ts";
import { LogKeyStore, logKeyOptionsFromEnv } from "../tlog/signing-keys.ts";

// Signs a statement with the tenant's log key: the manifest binds the hash of
// its canonical content to the checkpoint it was read at, so anyone holding
// the log's vkey can check it offline (src/verify/statement.ts).

let env_keys: LogKeyStore | undefined;

export function logKeysOf(ctx: ServiceContext): LogKeyStore {
  if (ctx.log_keys !== undefined) return ctx.log_keys;
  env_keys ??= new LogKeyStore(logKeyOptionsFromEnv());
  return env_keys;
}

/** The statement as plain JSON (amounts as integers), the form that is hashed and shipped. */
export function statementJson(statement: Statement): Record<string, unknown> {
  return JSON.parse(toJsonText(statement)) as Record<string, unknown>;
}

export interface SignedStatement extends Record<string, unknown> {
  manifest: StatementManifest;
}

export async function signStatement(
  ctx: ServiceContext,
  tenant_id: string,
  statement: Statement,
): Promise<SignedStatement> {
  const keys = logKeysOf(ctx);
  const signer = await keys.signer(ctx.db, tenant_id);
  const content = statementJson(statement);
  const content_sha256 = await statementContentHash(content);
  // The note of the checkpoint the statement names: checkpoints are insert-only, so it is still there.
  let checkpoint_note: string | null = null;
  if (statement.checkpoint !== null) {
    const row = await checkpointAt(ctx.db, tenant_id, BigInt(statement.checkpoint.size));
    assert(row !== undefined, `checkpoint ${statement.checkpoint.size} of ${tenant_id} vanished`);
    checkpoint_note = row.note;
  }
  const origin = statement.checkpoint?.origin ?? keys.origin(tenant_id);
  assert(origin === signer.name, `the statement's log ${origin} is not the key's ${signer.name}`);
  const signed_note = signNote(statementSignedText(origin, content_sha256, statement.checkpoint), [signer]);
  return {
    ...content,
    manifest: {
      version: statement_manifest_version,
      content_sha256,
      checkpoint: statement.checkpoint,
      checkpoint_note,
      signed_note,
      vkey: signer.vkey,
    },
  };
}
