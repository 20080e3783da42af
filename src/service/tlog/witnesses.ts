import { assert } from "../../core/assert.ts";
import {
  type CheckpointRow,
  checkpointAt,
  databaseTileFetcher,
  latestCheckpoint,
} from "../../store/log-tree-sql.ts";
import { recordCosignature, selectWitnessSize } from "../../store/log-witnesses-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { consistencyProofFromTiles } from "../../tlog/index.ts";
import { parseVkey, toBase64, verifyCosignature } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";

// The log's side of C2SP tlog-witness: after each checkpoint, POST
// `old <size>\n<proof lines>\n\n<note>` to every witness configured for the
// tenant, check the cosignature it returns against its pinned key, and store it.

export interface WitnessConfig {
  tenant_id: string;
  /** The witness's add-checkpoint URL, e.g. `http://w1.example:7001/add-checkpoint`. */
  url: string;
  /** The witness's cosignature vkey (type 0x04); its name identifies the witness. */
  vkey: string;
}

export const witness_timeout_ms = 5_000;
const witness_retries_max = 2;

/**
 * CLEARSPLIT_WITNESSES: a JSON array of {tenant_id, url, vkey}. Bad JSON or a
 * missing field throws, so a typo cannot silently run a log without witnesses.
 */
export function witnessesFromEnv(env: NodeJS.ProcessEnv = process.env): WitnessConfig[] {
  const text = env.CLEARSPLIT_WITNESSES;
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error("CLEARSPLIT_WITNESSES must be a JSON array");
  return parsed.map((item, index) => {
    const { tenant_id, url, vkey } = (item ?? {}) as Record<string, unknown>;
    if (typeof tenant_id !== "string" || typeof url !== "string" || typeof vkey !== "string")
      throw new Error(`CLEARSPLIT_WITNESSES[${index}] needs string tenant_id, url and vkey`);
    return { tenant_id, url, vkey };
  });
}

export function witnessName(vkey: string): string {
  const name = vkey.slice(0, vkey.indexOf("+"));
  assert(name.length > 0, `witness vkey ${vkey} has no name`);
  return name;
}

export type WitnessResult =
  | { witness: string; status: "cosigned"; size: bigint }
  | { witness: string; status: "already"; size: bigint }
  | { witness: string; status: "refused"; http_status: number; reason: string };

/** Asks each witness of the tenant to cosign the latest checkpoint; stores what they return. */
export async function requestCosignatures(
  ctx: ServiceContext,
  tenant_id: string,
  witnesses: readonly WitnessConfig[],
): Promise<WitnessResult[]> {
  const mine = witnesses.filter((witness) => witness.tenant_id === tenant_id);
  if (mine.length === 0) return [];
  const checkpoint = await latestCheckpoint(ctx.db, tenant_id);
  if (!checkpoint) return [];
  return Promise.all(mine.map((witness) => askWitness(ctx, tenant_id, checkpoint, witness)));
}

async function askWitness(
  ctx: ServiceContext,
  tenant_id: string,
  checkpoint: CheckpointRow,
  witness: WitnessConfig,
): Promise<WitnessResult> {
  await parseVkey(witness.vkey);
  const name = witnessName(witness.vkey);
  const state = await selectWitnessSize(ctx.db, tenant_id, name);
  let old = state ?? 0n;
  if (old === checkpoint.size && state !== undefined) return { witness: name, status: "already", size: old };
  for (let attempt = 0; attempt <= witness_retries_max; attempt++) {
    if (old > checkpoint.size)
      return { witness: name, status: "refused", http_status: 0, reason: `witness is ahead at size ${old}` };
    const proof =
      old === 0n || old === checkpoint.size
        ? []
        : await consistencyProofFromTiles(old, checkpoint.size, databaseTileFetcher(ctx.db, tenant_id));
    const body = `old ${old}\n${proof.map((hash) => `${toBase64(hash)}\n`).join("")}\n${checkpoint.note}`;
    let response: Response;
    try {
      response = await fetch(witness.url, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(witness_timeout_ms),
      });
    } catch (error) {
      return { witness: name, status: "refused", http_status: 0, reason: errorText(error) };
    }
    const text = await response.text();
    if (
      response.status === 409 &&
      (response.headers.get("content-type") ?? "").startsWith("text/x.tlog.size")
    ) {
      // The witness is at another size than we remembered: retry from its size.
      old = BigInt(/^(0|[1-9][0-9]*)\n?$/.exec(text)?.[1] ?? "-1");
      if (old < 0n) return { witness: name, status: "refused", http_status: 409, reason: "bad size reply" };
      continue;
    }
    if (response.status !== 200)
      return { witness: name, status: "refused", http_status: response.status, reason: text.trim() };
    return storeCosignature(ctx, tenant_id, checkpoint, witness, name, text);
  }
  return { witness: name, status: "refused", http_status: 409, reason: "witness size kept changing" };
}

async function storeCosignature(
  ctx: ServiceContext,
  tenant_id: string,
  checkpoint: CheckpointRow,
  witness: WitnessConfig,
  name: string,
  line: string,
): Promise<WitnessResult> {
  // Never store what we did not check: the line must be a valid cosignature of this note.
  if (!/^\u2014 [^\n]+\n$/.test(line))
    return { witness: name, status: "refused", http_status: 200, reason: "reply is not one signature line" };
  try {
    await verifyCosignature(checkpoint.note + line, witness.vkey);
  } catch (error) {
    return {
      witness: name,
      status: "refused",
      http_status: 200,
      reason: `bad cosignature: ${errorText(error)}`,
    };
  }
  await inTransaction(ctx.db, async (tx) => {
    assert(
      (await checkpointAt(tx, tenant_id, checkpoint.size)) !== undefined,
      "cosigned checkpoint vanished",
    );
    await recordCosignature(tx, tenant_id, { witness: name, size: checkpoint.size, line }, ctx.now());
  });
  return { witness: name, status: "cosigned", size: checkpoint.size };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
