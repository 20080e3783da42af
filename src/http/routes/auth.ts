import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readScopeOf } from "../../core/auth/scope.ts";
import { login_length_max, password_length_max, tenant_id_length_max } from "../../core/limits.ts";
import { listSecurityEvents } from "../../service/auth/security-events.ts";
import { login, logout } from "../../service/auth/sessions.ts";
import type { ServiceContext } from "../../service/context.ts";
import { withReadScope } from "../../store/scoped.ts";
import { foreignOrigin, principalOf } from "../authenticate.ts";
import { csrf_cookie, parseCookies, serializeCookie, session_cookie } from "../cookies.ts";
import { problem, sendProblem } from "../problem.ts";
import { limitOf } from "../request-scope.ts";
import { next_cursor_schema, page_query, user_schema } from "../schemas.ts";

function setSessionCookies(
  reply: FastifyReply,
  request: FastifyRequest,
  tokens: { token: string; csrf_token: string; max_age_s: number },
): void {
  const secure = request.protocol === "https";
  reply.header("set-cookie", [
    serializeCookie(session_cookie, tokens.token, { http_only: true, secure, max_age_s: tokens.max_age_s }),
    // Readable by the console's script, which echoes it in the x-csrf-token header.
    serializeCookie(csrf_cookie, tokens.csrf_token, {
      http_only: false,
      secure,
      max_age_s: tokens.max_age_s,
    }),
  ]);
}

export async function authRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: { tenant_id: string; login: string; password: string } }>(
    "/v1/auth/login",
    {
      config: { access: "public" },
      schema: {
        tags: ["auth"],
        summary: "Log in to the console: sets the cs_session and cs_csrf cookies",
        security: [],
        body: {
          type: "object",
          required: ["tenant_id", "login", "password"],
          additionalProperties: false,
          properties: {
            tenant_id: { type: "string", minLength: 1, maxLength: tenant_id_length_max },
            login: {
              type: "string",
              minLength: 1,
              maxLength: login_length_max,
              description: "email or user id",
            },
            password: { type: "string", minLength: 1, maxLength: password_length_max },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              user: user_schema,
              csrf_token: { type: "string" },
              expires_at: { type: "string", format: "date-time" },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const origin = foreignOrigin(request);
      if (origin !== null)
        return sendProblem(reply, problem("csrf_rejected", `origin ${origin} may not log in here`));
      const result = await login(ctx, {
        ...request.body,
        ip: request.ip,
        previous_token: parseCookies(request.headers.cookie).get(session_cookie),
      });
      if (result.outcome === "locked") {
        reply.header("retry-after", String(result.retry_after_s));
        return sendProblem(
          reply,
          problem(
            "login_locked",
            `too many failed logins for this account or address; try again in ${result.retry_after_s} s`,
          ),
        );
      }
      if (result.outcome === "failure") {
        return sendProblem(reply, problem("unauthorized", "the login or the password is wrong"));
      }
      const max_age_s = (result.expires_at.getTime() - ctx.now().getTime()) / 1000;
      setSessionCookies(reply, request, { token: result.token, csrf_token: result.csrf_token, max_age_s });
      return { user: result.user, csrf_token: result.csrf_token, expires_at: result.expires_at };
    },
  );

  app.post(
    "/v1/auth/logout",
    {
      schema: {
        tags: ["auth"],
        summary: "End the console session (cookie writes need x-csrf-token)",
        response: { 204: { type: "null" } },
      },
    },
    async (request, reply) => {
      const session = request.session;
      if (session !== null) await logout(ctx, principalOf(request), session.token, request.ip);
      setSessionCookies(reply, request, { token: "", csrf_token: "", max_age_s: 0 });
      return reply.status(204).send();
    },
  );

  app.get(
    "/v1/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "Who the credential belongs to: role, party and tenant",
        response: {
          200: {
            type: "object",
            properties: {
              tenant_id: { type: "string" },
              role: { type: "string" },
              party_id: { type: ["string", "null"] },
              actor: { type: "string" },
              user: { anyOf: [user_schema, { type: "null" }] },
              session_expires_at: { type: ["string", "null"], format: "date-time" },
            },
          },
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        ...principal,
        user: request.session?.user ?? null,
        session_expires_at: request.session?.expires_at ?? null,
      };
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    "/v1/security-events",
    {
      config: { roles: ["platform_admin", "auditor"] },
      schema: {
        tags: ["auth"],
        summary: "The tenant's security audit trail, newest first",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            // Query strings are strings: the API's ajv does not coerce, so a number schema refused every limit.
            limit: page_query.limit,
            cursor: page_query.cursor,
          },
        },
        response: {
          200: {
            type: "object",
            required: ["items", "next_cursor"],
            properties: {
              items: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    occurred_at: { type: "string", format: "date-time" },
                    actor: { type: "string" },
                    ip: { type: ["string", "null"] },
                    action: { type: "string" },
                    outcome: { type: "string" },
                    subject: { type: ["string", "null"] },
                    detail: { type: "object", additionalProperties: true },
                  },
                },
              },
              next_cursor: next_cursor_schema,
            },
          },
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return withReadScope(ctx.db, readScopeOf(principal), (tx) =>
        listSecurityEvents(tx, principal.tenant_id, {
          limit: limitOf(request.query.limit),
          cursor: request.query.cursor,
        }),
      );
    },
  );
}
