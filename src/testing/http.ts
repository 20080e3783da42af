import type { FastifyInstance } from "fastify";
import { buildApp } from "../http/app.ts";
import type { ServiceContext } from "../service/context.ts";

export interface TestServer {
  app: FastifyInstance;
  url: string;
  call(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; key?: string; headers?: Record<string, string> },
  ): // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies by field.
  Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** Starts the real HTTP server on a free loopback port; tests talk to it with fetch. */
export async function startTestServer(ctx: ServiceContext, key: string): Promise<TestServer> {
  const app = await buildApp({ ctx });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    app,
    url,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.key ?? key}`,
        ...options.headers,
      };
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? null : JSON.parse(text);
      } catch {}
      return { status: response.status, body: parsed, headers: response.headers };
    },
    close: () => app.close(),
  };
}
