import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Principal, Role } from "../core/auth/roles.ts";
import { authenticateApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import { problem, sendProblem } from "./problem.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** `public` routes need no credential. Everything else does. */
    access?: "public";
    /** Roles allowed on the route; absent means any authenticated role. */
    roles?: readonly Role[];
  }
}

/**
 * Every route is authenticated unless it says `access: "public"`, and a route
 * that lists roles refuses every other role with 403. Party scoping is the
 * route's business, backed by the store (docs/security.md).
 */
export function installAuth(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest("principal", null);
  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    const url = request.routeOptions.url;
    // The docs UI's own routes come from @fastify/swagger-ui and carry no config.
    if (config.access === "public" || url === undefined || url === "/docs" || url.startsWith("/docs/"))
      return;
    const header = request.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const principal = token === "" ? null : await authenticateApiKey(ctx.db, token, ctx.now());
    if (principal === null) {
      reply.header("www-authenticate", 'Bearer realm="clearsplit"');
      return sendProblem(
        reply,
        problem(401, "unauthorized", "send a valid API key as `Authorization: Bearer cs_live_…`"),
      );
    }
    if (config.roles !== undefined && !config.roles.includes(principal.role)) {
      return sendProblem(
        reply,
        problem(403, "forbidden", `the ${principal.role} role may not use this route`),
      );
    }
    request.principal = principal;
  });
}

/** The principal of an authenticated route; the hook guarantees it. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null) throw new Error("route reached without a principal");
  return principal;
}
