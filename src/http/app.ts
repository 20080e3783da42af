import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { jsonReplacer, toJsonText } from "../core/json.ts";
import type { ServiceContext } from "../service/context.ts";
import { installAuth } from "./auth.ts";
import { clientErrorHandler, frameworkErrors, installHardening } from "./hardening.ts";
import { installIdempotency } from "./idempotency.ts";
import { handleError, problem, sendProblem } from "./problem.ts";
import { routeModules } from "./routes/index.ts";

export interface AppOptions {
  ctx: ServiceContext;
  logger?: boolean;
  /** Largest request body any route accepts; routes may lower it. */
  body_limit_bytes?: number;
}

export const default_body_limit_bytes = 1024 * 1024;

/** Builds the HTTP API. The caller listens; tests use `inject` or listen on port 0. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.body_limit_bytes ?? default_body_limit_bytes,
    // Amounts are bigints inside; one serializer for every route keeps them exact.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
  });
  app.setSerializerCompiler(() => (data) => toJsonText(data));
  app.setReplySerializer((payload) => toJsonText(payload));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "ClearSplit API",
        version: "1",
        description:
          "Split-settlement ledger for marketplaces. Amounts are JSON integers in minor units of an ISO 4217 currency. " +
          "Errors are RFC 9457 application/problem+json. Writes accept an Idempotency-Key header.",
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "cs_live_<id>_<secret>" } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });

  installAuth(app, options.ctx);
  installHardening(app);
  installIdempotency(app, options.ctx);
  for (const register of routeModules) await register(app, options.ctx);

  app.get(
    "/openapi.json",
    { config: { access: "public" }, schema: { hide: true } },
    async (_request, reply) =>
      reply.type("application/json").send(JSON.stringify(app.swagger(), jsonReplacer)),
  );
  return app;
}
