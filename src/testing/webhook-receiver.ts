import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// A real webhook receiver on loopback for tests: it records every request
// (headers and raw body) and answers with whatever the test scripts, in order.

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  at_ms: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answers for the next requests, in order; after them, `fallback`. */
  script: Answer[];
  fallback: Answer;
  /** Holds each answer this long (a slow receiver keeps a batch in flight). */
  delay_ms: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver = {
    received: [] as Received[],
    script: [] as Answer[],
    fallback: { status: 204 } as Answer,
    delay_ms: 0,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      receiver.received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        path: request.url ?? "/",
        at_ms: Date.now(),
      });
      const answer = receiver.script.shift() ?? receiver.fallback;
      setTimeout(() => {
        response.writeHead(answer.status, answer.headers ?? {});
        response.end();
      }, receiver.delay_ms);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
