import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { NoteSigner } from "../../tlog/note-signer.ts";
import {
  type WitnessOutcome,
  type WitnessRefusal,
  type WitnessState,
  witnessCheckpoint,
} from "../../tlog/witness.ts";
import { fromBase64Strict } from "../../verify/index.ts";
import { saveWitnessState } from "./witness-state.ts";

// An HTTP witness in the shape of C2SP tlog-witness: POST /add-checkpoint with
//   old <size>\n<base64 proof hash>\n…\n\n<signed checkpoint note>
// answers 200 with the cosignature line, or a refusal with a plain-text reason.

export const request_bytes_max = 64 * 1024;
const proof_lines_max = 64;

const status_by_refusal: Record<WitnessRefusal, number> = {
  checkpoint_malformed: 400,
  checkpoint_bad_signature: 403,
  origin_mismatch: 404,
  old_size_mismatch: 409,
  fork_same_size: 409,
  size_smaller: 400,
  consistency_invalid: 422,
};

export interface WitnessServerOptions {
  origin: string;
  logKeys: string[];
  signer: NoteSigner;
  stateDir: string;
  state: WitnessState | null;
  now_seconds?: () => bigint;
}

interface AddCheckpoint {
  oldSize: bigint;
  proof: Uint8Array[];
  note: string;
}

export function parseAddCheckpoint(body: string): AddCheckpoint | undefined {
  const split = body.indexOf("\n\n");
  if (split < 0) return undefined;
  const [old_line, ...proof_lines] = body.slice(0, split).split("\n");
  const old = /^old (0|[1-9][0-9]{0,19})$/.exec(old_line ?? "");
  if (!old || proof_lines.length > proof_lines_max) return undefined;
  const proof = proof_lines.map((line) => fromBase64Strict(line));
  if (proof.some((hash) => hash === undefined || hash.length !== 32)) return undefined;
  return { oldSize: BigInt(old[1]!), proof: proof as Uint8Array[], note: body.slice(split + 2) };
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > request_bytes_max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reply(
  response: ServerResponse,
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
): void {
  response.writeHead(status, { "content-type": type });
  response.end(body);
}

export function createWitnessServer(options: WitnessServerOptions): Server {
  let state = options.state;
  // One request at a time: deciding and persisting must not interleave, or two
  // branches could both be checked against the same old state.
  let queue: Promise<unknown> = Promise.resolve();
  const now = options.now_seconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));

  async function handle(body: AddCheckpoint): Promise<WitnessOutcome> {
    const outcome = await witnessCheckpoint({
      state,
      note: body.note,
      proof: body.proof,
      oldSize: body.oldSize,
      origin: options.origin,
      logKeys: options.logKeys,
      witness: options.signer,
      now_seconds: now(),
    });
    if (outcome.ok) {
      await saveWitnessState(options.stateDir, outcome.state);
      state = outcome.state;
    }
    return outcome;
  }

  return createServer(async (request, response) => {
    if (request.method !== "POST" || request.url !== "/add-checkpoint")
      return reply(response, 404, "not found\n");
    const text = await readBody(request);
    const body = text === undefined ? undefined : parseAddCheckpoint(text);
    if (body === undefined) return reply(response, 400, "malformed add-checkpoint request\n");
    const turn = queue.catch(() => undefined).then(() => handle(body));
    queue = turn;
    let outcome: WitnessOutcome;
    try {
      outcome = await turn;
    } catch (error) {
      // Nothing was cosigned: the state is saved before a cosignature is released.
      return reply(
        response,
        500,
        `witness error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    if (outcome.ok) return reply(response, 200, outcome.cosignature);
    if (outcome.code === "old_size_mismatch")
      return reply(response, 409, `${outcome.size}\n`, "text/x.tlog.size");
    return reply(response, status_by_refusal[outcome.code], `${outcome.code}: ${outcome.reason}\n`);
  });
}
