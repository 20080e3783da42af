import type { FastifyInstance } from "fastify";
import { type Role, roles } from "../../core/auth/roles.ts";
import {
  id_length_max,
  login_length_max,
  password_length_max,
  password_length_min,
} from "../../core/limits.ts";
import { createUser, listUsersPage, updateUser } from "../../service/auth/users.ts";
import type { ServiceContext } from "../../service/context.ts";
import { principalOf } from "../authenticate.ts";
import { limitOf } from "../request-scope.ts";
import { id_params, page_query, pageSchema, problem_schema, user_schema } from "../schemas.ts";

// Console users over the API (issue 12 §6): platform_admin only, and every
// change is a security event (service/auth/users.ts), as with API keys.

const admin = { roles: ["platform_admin"] as const };
const party_id = { type: ["string", "null"], minLength: 1, maxLength: id_length_max } as const;

export async function userRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: { login: string; password: string; role: Role; party_id?: string | null } }>(
    "/v1/users",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary:
          "Create a console user: a login (e-mail), a password, a role and, for merchants and suppliers, a party",
        body: {
          type: "object",
          required: ["login", "password", "role"],
          additionalProperties: false,
          properties: {
            login: {
              type: "string",
              minLength: 3,
              maxLength: login_length_max,
              description: "The e-mail the user logs in with",
            },
            password: { type: "string", minLength: password_length_min, maxLength: password_length_max },
            role: { type: "string", enum: [...roles] },
            party_id,
          },
        },
        response: { 201: user_schema, 409: problem_schema, 422: problem_schema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { login, ...rest } = request.body;
      const user = await createUser(
        ctx,
        principal.tenant_id,
        { ...rest, email: login },
        { actor: principal.actor, ip: request.ip },
      );
      return reply.status(201).send(user);
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/users",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary: "The tenant's console users in creation order (never their passwords)",
        querystring: { type: "object", additionalProperties: false, properties: { ...page_query } },
        response: { 200: pageSchema(user_schema) },
      },
    },
    async (request) =>
      listUsersPage(ctx.db, principalOf(request).tenant_id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.patch<{
    Params: { id: string };
    Body: { role?: Role; party_id?: string | null; disabled?: boolean };
  }>(
    "/v1/users/:id",
    {
      config: admin,
      schema: {
        tags: ["auth"],
        summary:
          "Change a user's role, party or whether it is disabled; a role change or disabling ends its sessions, and a disabled user cannot log in",
        params: id_params,
        body: {
          type: "object",
          minProperties: 1,
          additionalProperties: false,
          properties: { role: { type: "string", enum: [...roles] }, party_id, disabled: { type: "boolean" } },
        },
        response: { 200: user_schema, 404: problem_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return updateUser(ctx, principal.tenant_id, request.params.id, request.body, {
        actor: principal.actor,
        ip: request.ip,
      });
    },
  );
}
