import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Principal, Role } from "../core/auth/roles.ts";
import { authenticateApiKey } from "../service/auth/api-keys.ts";
import { authenticateSession, type SessionPrincipal, sha256Hex } from "../service/auth/sessions.ts";
import type { ServiceContext } from "../service/context.ts";
import { csrf_cookie, parseCookies, session_cookie } from "./cookies.ts";
import { problem, sendProblem } from "./problem.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
    /** Set when the principal came from a console session cookie rather than a Bearer key. */
    session: (SessionPrincipal & { token: string }) | null;
  }
  interface FastifyContextConfig {
    /** `public` routes need no credential. Everything else does. */
    access?: "public";
    /** Roles allowed on the route; absent means any authenticated role. */
    roles?: readonly Role[];
  }
}

const write_methods = new Set(["POST", "PUT", "PATCH", "DELETE"]);
export const csrf_header = "x-csrf-token";

/**
 * Every route is authenticated unless it says `access: "public"`, and a route
 * that lists roles refuses every other role with 403. A caller authenticates
 * with `Authorization: Bearer <API key>` or with the console's `cs_session`
 * cookie; a write made with the cookie must also pass the CSRF check. Party
 * scoping is enforced below the route by row-level security (docs/security.md).
 */
export function installAuth(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest("principal", null);
  app.decorateRequest("session", null);
  // onRequest: credentials are checked before a body is read, parsed or
  // validated, so an unauthenticated caller gets 401 and costs no parsing.
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    const url = request.routeOptions.url;
    // The docs UI's own routes come from @fastify/swagger-ui and carry no config.
    if (config.access === "public" || url === undefined || url === "/docs" || url.startsWith("/docs/"))
      return;
    const principal = await authenticate(request, ctx);
    if (principal === null) {
      reply.header("www-authenticate", 'Bearer realm="clearsplit"');
      return sendProblem(
        reply,
        problem("unauthorized", "send a valid API key as `Authorization: Bearer cs_live_…` or log in"),
      );
    }
    if (request.session !== null && write_methods.has(request.method)) {
      const refusal = csrfRefusal(request, request.session.csrf_sha256);
      if (refusal !== null) return sendProblem(reply, problem("csrf_rejected", refusal));
    }
    if (config.roles !== undefined && !config.roles.includes(principal.role)) {
      return sendProblem(reply, problem("forbidden", `the ${principal.role} role may not use this route`));
    }
    request.principal = principal;
  });
}

/** A Bearer key when the header is present (never falls back to the cookie), else the session cookie. */
async function authenticate(request: FastifyRequest, ctx: ServiceContext): Promise<Principal | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    // RFC 9110 §11.1: the scheme name is case-insensitive ("bearer", "BEARER").
    const token = /^bearer /i.test(header) ? header.slice(7).trim() : "";
    return token === "" ? null : authenticateApiKey(ctx.db, token, ctx.now());
  }
  const token = parseCookies(request.headers.cookie).get(session_cookie);
  if (token === undefined) return null;
  const session = await authenticateSession(ctx.db, token, ctx.now());
  if (session === null) return null;
  request.session = { ...session, token };
  return session.principal;
}

/**
 * Double-submit CSRF check bound to the session: the `x-csrf-token` header must
 * equal the `cs_csrf` cookie and hash to the token issued with this session;
 * and a browser's Origin (or Referer) must be this server or an allowed origin.
 * Returns why the request is refused, or null.
 */
export function csrfRefusal(request: FastifyRequest, csrf_sha256: string): string | null {
  const origin = originOf(request);
  if (origin !== null && !allowedOrigins(request).has(origin))
    return `origin ${origin} may not write with a session`;
  const header = request.headers[csrf_header];
  const sent = Array.isArray(header) ? header[0] : header;
  const cookie = parseCookies(request.headers.cookie).get(csrf_cookie);
  if (sent === undefined || cookie === undefined)
    return `send the ${csrf_header} header with the ${csrf_cookie} cookie's value`;
  if (!constantTimeEqual(sent, cookie) || !constantTimeEqual(sha256Hex(sent), csrf_sha256))
    return `the ${csrf_header} header does not match this session`;
  return null;
}

function originOf(request: FastifyRequest): string | null {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "null") return origin;
  if (origin === "null") return "null";
  const referer = request.headers.referer;
  if (typeof referer !== "string") return null;
  try {
    return new URL(referer).origin;
  } catch {
    return "null";
  }
}

/** This server as the browser sees it, plus `CLEARSPLIT_ALLOWED_ORIGINS` (comma-separated). */
export function allowedOrigins(request: FastifyRequest): Set<string> {
  const allowed = new Set<string>();
  if (request.headers.host) allowed.add(`${request.protocol}://${request.headers.host}`);
  for (const item of (process.env.CLEARSPLIT_ALLOWED_ORIGINS ?? "").split(",")) {
    if (item.trim() !== "") allowed.add(item.trim());
  }
  return allowed;
}

/** Whether a browser request names a foreign origin (login and logout use it before any session exists). */
export function foreignOrigin(request: FastifyRequest): string | null {
  const origin = originOf(request);
  return origin !== null && !allowedOrigins(request).has(origin) ? origin : null;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The principal of an authenticated route; the hook guarantees it. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null) throw new Error("route reached without a principal");
  return principal;
}
