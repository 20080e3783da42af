import type { FastifyInstance, FastifyReply } from "fastify";
import { party_scoped_roles, type Role } from "../../core/auth/roles.ts";
import { DomainError } from "../../core/errors.ts";
import { path_param_length_max } from "../../core/limits.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import type { ServiceContext } from "../../service/context.ts";
import {
  assertTenant,
  checkpoints_page_max,
  consistencyProof,
  listCheckpoints,
  proofBundle,
  readEntriesTile,
  readTile,
  servedCheckpoint,
} from "../../service/tlog/proofs.ts";
import { logVkey } from "../../service/tlog/signing-keys.ts";
import { tilePath, toBase64 } from "../../verify/index.ts";
import { principalOf } from "../authenticate.ts";
import { component } from "../components.ts";
import { limitOf } from "../request-scope.ts";
import { binary_body, mediaResponse, next_cursor_schema, page_query, text_body } from "../schemas.ts";

// The log's public face (C2SP tlog-tiles: checkpoint, hash tiles, entry
// tiles, vkey) and the authenticated proof endpoints.

const tenant_param = {
  type: "object",
  required: ["tenant"],
  properties: { tenant: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" } },
} as const;
const immutable = "public, max-age=31536000, immutable";
const tile_levels = 8; // the appender's maximum (256^8 leaves)
const base64_list = { type: "array", items: { type: "string", contentEncoding: "base64" } } as const;
const bundle_schema = component("ProofBundle", {
  type: "object",
  description: "Proof bundle v1 (docs/transparency.md); check it with verifyBundle from clearsplit/verify",
  properties: {
    version: { type: "integer" },
    origin: { type: "string" },
    record: { type: "object", additionalProperties: true },
    disclosures: {
      type: "array",
      description:
        "Opened parts of a committed journal record: a party gets its own, platform roles and auditors all (docs/transparency.md)",
      items: {
        type: "object",
        properties: {
          party_id: { type: "string" },
          salt: { type: "string", contentEncoding: "base64" },
          entries: { type: "array", items: { type: "object", additionalProperties: true } },
        },
      },
    },
    salt: { type: "string", contentEncoding: "base64" },
    leaf_index: { type: "integer" },
    tree_size: { type: "integer" },
    inclusion_proof: base64_list,
    checkpoint: { type: "string" },
  },
});
const consistency_schema = component("ConsistencyProof", {
  type: "object",
  properties: {
    from: { type: "integer" },
    to: { type: "integer" },
    proof: base64_list,
    checkpoint: { type: "string", description: "the signed checkpoint of size `to`, with cosignatures" },
  },
});
const checkpoints_schema = {
  type: "object",
  required: ["items", "next_cursor"],
  properties: {
    items: {
      type: "array",
      items: {
        type: "object",
        properties: {
          size: { type: "integer" },
          root: { type: "string", contentEncoding: "base64" },
          created_at: { type: "string", format: "date-time" },
          cosignatures: { type: "integer" },
        },
      },
    },
    next_cursor: next_cursor_schema,
  },
} as const;
const proof_roles: readonly Role[] = [
  "platform_admin",
  "finance",
  "auditor",
  "merchant",
  "supplier",
  "party",
];

export interface TileRequest {
  entries: boolean;
  level: number;
  index: bigint;
  width: number;
}

/** Parses `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`; only the canonical spelling is accepted. */
export function parseTileRequest(path: string): TileRequest | undefined {
  const match = /^(entries|[0-9])\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]{1,3}))?$/.exec(path);
  if (!match) return undefined;
  const entries = match[1] === "entries";
  const level = entries ? 0 : Number(match[1]);
  const index = BigInt(match[2]!.replaceAll("x", "").replaceAll("/", ""));
  const width = match[3] === undefined ? 256 : Number(match[3]);
  if (level >= tile_levels || width < 1 || width > 255 + (match[3] === undefined ? 1 : 0)) return undefined;
  if (index >= 1n << 56n) return undefined;
  if (
    tilePath(level, index, width) !==
    `tile/${level}/${match[2]}${match[3] === undefined ? "" : `.p/${match[3]}`}`
  )
    return undefined;
  return { entries, level, index, width };
}

function sendBytes(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply
    .type("application/octet-stream")
    .header("cache-control", immutable)
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
}

export async function logRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Params: { tenant: string } }>(
    "/log/:tenant/checkpoint",
    {
      config: { access: "public" },
      schema: {
        tags: ["log"],
        response: { 200: mediaResponse("The signed checkpoint note", { "text/plain": text_body }) },
        summary: "The latest signed checkpoint with witness cosignatures",
        params: tenant_param,
      },
    },
    async (request, reply) => {
      const note = await servedCheckpoint(ctx.db, request.params.tenant);
      return reply.type("text/plain; charset=utf-8").header("cache-control", "no-cache").send(note);
    },
  );

  app.get<{ Params: { tenant: string } }>(
    "/log/:tenant/vkey",
    {
      config: { access: "public" },
      schema: {
        tags: ["log"],
        response: { 200: mediaResponse("The verifier key", { "text/plain": text_body }) },
        summary: "The log's verifier key (C2SP vkey)",
        params: tenant_param,
      },
    },
    async (request, reply) => {
      await assertTenant(ctx.db, request.params.tenant);
      const vkey = await logVkey(ctx.db, request.params.tenant);
      if (!vkey) throw new DomainError("checkpoint_not_found", "the log has not started yet");
      return reply.type("text/plain; charset=utf-8").send(`${vkey}\n`);
    },
  );

  app.get<{ Params: { tenant: string; "*": string } }>(
    "/log/:tenant/tile/*",
    {
      config: { access: "public" },
      schema: {
        tags: ["log"],
        response: { 200: mediaResponse("The tile's bytes", { "application/octet-stream": binary_body }) },
        summary: "A hash tile <L>/<N>[.p/<W>] or an entries tile entries/<N>[.p/<W>] (C2SP tlog-tiles)",
        params: {
          type: "object",
          required: ["tenant", "*"],
          properties: {
            tenant: tenant_param.properties.tenant,
            "*": { type: "string", maxLength: path_param_length_max },
          },
        },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params;
      const tile = parseTileRequest(request.params["*"]);
      if (!tile)
        throw new DomainError("tile_not_found", "not a tile path: use <L>/<N>[.p/<W>] as in tlog-tiles");
      await assertTenant(ctx.db, tenant);
      const bytes = tile.entries
        ? await readEntriesTile(ctx.db, tenant, tile.index, tile.width)
        : await readTile(ctx.db, tenant, tile.level, tile.index, tile.width);
      if (!bytes) throw new DomainError("tile_not_found", `no tile ${request.params["*"]}`);
      return sendBytes(reply, bytes);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/records/:id/proof",
    {
      config: { roles: proof_roles },
      schema: {
        tags: ["log"],
        summary:
          "Proof bundle of a record: the record, its salt, leaf index, inclusion proof and cosigned checkpoint",
        params: {
          type: "object",
          required: ["id"],
          properties: { id: { type: "string", maxLength: path_param_length_max } },
        },
        response: { 200: bundle_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const scoped = party_scoped_roles.has(principal.role);
      if (scoped && !principal.party_id) throw new DomainError("record_not_found", "no such record");
      return proofBundle(ctx, principal.tenant_id, request.params.id, {
        party_id: scoped ? principal.party_id : null,
      });
    },
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    "/v1/log/consistency",
    {
      schema: {
        tags: ["log"],
        summary: "RFC 9162 consistency proof between two tree sizes (to must be a checkpointed size)",
        querystring: {
          type: "object",
          required: ["from", "to"],
          properties: {
            from: { type: "string", pattern: "^[0-9]{1,15}$" },
            to: { type: "string", pattern: "^[0-9]{1,15}$" },
          },
        },
        response: { 200: consistency_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const result = await consistencyProof(
        ctx,
        principal.tenant_id,
        BigInt(request.query.from),
        BigInt(request.query.to),
      );
      return { ...result, proof: result.proof.map(toBase64) };
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/log/checkpoints",
    {
      schema: {
        tags: ["log"],
        summary: "Checkpoints of the caller's tenant, newest first",
        querystring: {
          type: "object",
          properties: {
            ...page_query,
          },
        },
        response: { 200: checkpoints_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const limit = pageLimit(limitOf(request.query.limit), 100, checkpoints_page_max);
      const before = request.query.cursor === undefined ? undefined : checkpointCursor(request.query.cursor);
      const rows = await listCheckpoints(ctx.db, principal.tenant_id, { before, limit: limit + 1 });
      return pageOf(
        rows,
        limit,
        "checkpoints",
        (row) => [row.size],
        (row) => ({ ...row, root: toBase64(row.root) }),
      );
    },
  );
}

function checkpointCursor(cursor: string): bigint {
  return decodeCursor("checkpoints", cursor, ["size"])[0];
}
