import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { newId } from "../core/ids.ts";
import { jsonReplacer, toJsonText } from "../core/json.ts";
import type { ServiceContext } from "../service/context.ts";
import { installAuth } from "./authenticate.ts";
import { registerComponents } from "./components.ts";
import { type ConsoleServer, installConsole } from "./console.ts";
import { clientErrorHandler, frameworkErrors, installHardening } from "./hardening.ts";
import { installIdempotency } from "./idempotency.ts";
import { installMetrics } from "./metrics.ts";
import { swaggerOptions } from "./openapi.ts";
import { handleError, problem, sendProblem } from "./problem.ts";
import { routeModules } from "./routes/index.ts";

export interface AppOptions {
  ctx: ServiceContext;
  /** JSON logs (pino) at CLEARSPLIT_LOG_LEVEL (default info), to stdout or the given stream. */
  logger?: boolean;
  log_stream?: { write(line: string): void };
  /** Largest request body any route accepts; routes may lower it. */
  body_limit_bytes?: number;
  /** The built web console (web/dist) to serve at `/`; absent serves the API only. */
  console_dir?: string;
}

export const default_body_limit_bytes = 1024 * 1024;
export const request_id_header = "x-request-id";
const request_id_pattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** pino options: credentials never reach a log line, whatever a serializer later adds. */
function loggerOptions(stream: { write(line: string): void } | undefined) {
  return {
    level: process.env.CLEARSPLIT_LOG_LEVEL ?? "info",
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        "*.password",
        "*.key",
        "*.secret",
      ],
      censor: "[redacted]",
    },
    ...(stream === undefined ? {} : { stream }),
  };
}

/** Builds the HTTP API. The caller listens; tests use `inject` or listen on port 0. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger || options.log_stream ? loggerOptions(options.log_stream) : false,
    // Every request has an id: the caller's X-Request-Id when it is a sane
    // token, else a new UUIDv7. It is on every log line and in the response.
    genReqId: (request) => {
      const incoming = request.headers[request_id_header];
      return typeof incoming === "string" && request_id_pattern.test(incoming) ? incoming : newId();
    },
    bodyLimit: options.body_limit_bytes ?? default_body_limit_bytes,
    // Amounts are bigints inside; one serializer for every route keeps them exact.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
  });
  app.setSerializerCompiler(() => (data) => toJsonText(data));
  app.setReplySerializer((payload) => toJsonText(payload));
  app.addHook("onRequest", async (request, reply) => {
    reply.header(request_id_header, request.id);
  });
  app.setErrorHandler(handleError);
  let web_console: ConsoleServer | null = null;
  app.setNotFoundHandler((request, reply) => {
    if (web_console?.fallback(request, reply)) return reply;
    return sendProblem(
      reply,
      problem("not_found", `no route ${request.method} ${request.url.split("?")[0]}`),
    );
  });

  registerComponents(app);
  await app.register(swagger, swaggerOptions());
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });

  installAuth(app, options.ctx);
  installHardening(app);
  installMetrics(app, options.ctx);
  installIdempotency(app, options.ctx);
  for (const register of routeModules) await register(app, options.ctx);
  if (options.console_dir !== undefined) web_console = await installConsole(app, options.console_dir);

  app.get(
    "/openapi.json",
    { config: { access: "public" }, schema: { hide: true } },
    async (_request, reply) =>
      reply.type("application/json").send(JSON.stringify(app.swagger(), jsonReplacer)),
  );
  return app;
}
