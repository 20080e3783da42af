import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

// The web console: the built single-page application (web/dist) at `/`. Its
// files are public (they hold no data; the data comes from the API with the
// caller's session). Any other GET that names no file and is not under the
// API's own prefixes answers index.html, so `/orders/{id}` is a deep link.

/** Paths that never fall back to the console: an unknown API path stays a problem+json 404. */
const api_prefixes = ["/v1/", "/log/", "/docs", "/openapi.json", "/healthz", "/readyz", "/assets/"];
const exact_api_paths = new Set(["/v1", "/log"]);

// Ant Design injects its styles at run time, hence 'unsafe-inline' for styles only.
const content_security_policy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

export function isConsolePath(path: string): boolean {
  if (exact_api_paths.has(path)) return false;
  return !api_prefixes.some((prefix) => path === prefix || path.startsWith(prefix));
}

export interface ConsoleServer {
  /** Answers a GET that matched no route with the console's index.html, or returns false. */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

export async function installConsole(app: FastifyInstance, dir: string): Promise<ConsoleServer> {
  const index_path = join(dir, "index.html");
  if (!existsSync(index_path)) throw new Error(`the web console is not built: no ${index_path}`);
  const index_html = readFileSync(index_path);
  await app.register(async (scope) => {
    // Static files need no credential: mark each route this plugin adds as public.
    scope.addHook("onRoute", (route) => {
      route.config = { ...(route.config as object), access: "public" } as typeof route.config;
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      wildcard: false,
      index: false,
      // Every file the build writes has a content hash in its name: it never changes.
      // index.html is not served from here (below), so it is always revalidated.
      cacheControl: true,
      maxAge: 31_536_000_000,
      immutable: true,
      allowedPath: (path) => !path.endsWith("index.html") && !path.includes(".build-"),
    });
  });
  const sendIndex = (reply: FastifyReply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", content_security_policy)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .send(index_html);
  app.get("/", { config: { access: "public" }, schema: { hide: true } }, async (_request, reply) =>
    sendIndex(reply),
  );
  return {
    fallback(request, reply) {
      if (request.method !== "GET" && request.method !== "HEAD") return false;
      if (!isConsolePath(request.url.split("?")[0]!)) return false;
      void sendIndex(reply);
      return true;
    },
  };
}
