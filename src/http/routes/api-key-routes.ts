import type { FastifyInstance } from "fastify";
import { type Role, roles } from "../../core/auth/roles.ts";
import { id_length_max, name_length_max, path_param_length_max } from "../../core/limits.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { principalOf } from "../authenticate.ts";
import { component } from "../components.ts";
import { limitOf } from "../request-scope.ts";
import { api_key_schema, page_query, pageSchema } from "../schemas.ts";

const api_key_created_schema = component("ApiKeyCreated", {
  type: "object",
  description: "The new key: its secret `key`, shown here only, and its record.",
  required: ["key", "api_key"],
  properties: { key: { type: "string" }, api_key: api_key_schema },
});

/** API keys: platform_admin only. The key itself is in the create response and nowhere else. */
export async function keyRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const admin = { roles: ["platform_admin"] as const };
  app.post<{ Body: { name: string; role?: Role; party_id?: string; user_id?: string; expires_at?: string } }>(
    "/v1/api-keys",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary:
          "Create an API key; the key is shown once, in this response. With user_id the key acts as that user (role, party, and person for four-eyes decisions); otherwise role is required",
        body: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: {
            name: { type: "string", minLength: 1, maxLength: name_length_max },
            role: { type: "string", enum: [...roles] },
            party_id: { type: "string", minLength: 1, maxLength: id_length_max },
            user_id: { type: "string", format: "uuid" },
            expires_at: { type: "string", format: "date-time" },
          },
        },
        response: {
          201: api_key_created_schema,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { expires_at, ...rest } = request.body;
      const created = await createApiKey(
        ctx,
        principal.tenant_id,
        { ...rest, expires_at: expires_at === undefined ? null : new Date(expires_at) },
        { actor: principal.actor, ip: request.ip },
      );
      return reply.status(201).send(created);
    },
  );

  app.get<{ Querystring: { include_revoked?: boolean | string; limit?: string; cursor?: string } }>(
    "/v1/api-keys",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary: "List the tenant's API keys (never their secrets)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { include_revoked: { type: "string", enum: ["true", "false"] }, ...page_query },
        },
        response: {
          200: pageSchema(api_key_schema),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return listApiKeys(ctx.db, principal.tenant_id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
        include_revoked: String(request.query.include_revoked) === "true",
      });
    },
  );

  app.delete<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    "/v1/api-keys/:id",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary: "Revoke an API key; it is refused from the next request on",
        params: {
          type: "object",
          required: ["id"],
          properties: { id: { type: "string", minLength: 1, maxLength: path_param_length_max } },
        },
        response: { 200: api_key_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const reason = (request.body as { reason?: unknown } | undefined)?.reason;
      return revokeApiKey(
        ctx,
        principal.tenant_id,
        request.params.id,
        typeof reason === "string" ? reason : "revoked by API",
        { actor: principal.actor, ip: request.ip },
      );
    },
  );
}
