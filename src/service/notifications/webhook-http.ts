import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { assert } from "../../core/assert.ts";
import {
  webhook_response_bytes_max,
  webhook_sockets_per_origin_max,
  webhook_timeout_ms,
} from "../../core/limits.ts";
import { checkWebhookUrl, guardedLookup, isPrivateAddress, type Resolver } from "./address-guard.ts";

// One webhook POST. The URL is checked again here, and the connection's DNS
// answer is checked inside the socket's lookup, so what was public when the
// endpoint was saved cannot have become private since.

export interface HttpAttempt {
  status_code: number | null;
  retry_after: string | null;
  error: string | null;
  latency_ms: number;
}

const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: webhook_sockets_per_origin_max }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: webhook_sockets_per_origin_max }),
};

export async function postWebhook(
  url_text: string,
  headers: Record<string, string>,
  body: string,
  allow_private: boolean,
  timeout_ms = webhook_timeout_ms,
  resolver?: Resolver,
): Promise<HttpAttempt> {
  assert(timeout_ms >= 1 && timeout_ms <= 60_000, "webhook timeout out of range");
  const started = performance.now();
  const first = await postOnce(url_text, headers, body, allow_private, timeout_ms, resolver, started);
  // A kept-alive socket the receiver closed while idle fails before any answer: the request never
  // reached it, so it goes again at once on a fresh connection (as browsers do) rather than waiting
  // out the retry schedule. Same webhook-id and body, so a receiver that did see it can tell.
  if (!first.stale_socket) return first.attempt;
  return (await postOnce(url_text, headers, body, allow_private, timeout_ms, resolver, started)).attempt;
}

function postOnce(
  url_text: string,
  headers: Record<string, string>,
  body: string,
  allow_private: boolean,
  timeout_ms: number,
  resolver: Resolver | undefined,
  started: number,
): Promise<{ attempt: HttpAttempt; stale_socket: boolean }> {
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  let url: URL;
  try {
    url = checkWebhookUrl(url_text, allow_private);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!allow_private && isIP(host) !== 0 && isPrivateAddress(host))
      throw new Error(`${host} is a private address`);
  } catch (error) {
    return Promise.resolve({
      attempt: { status_code: null, retry_after: null, error: messageOf(error), latency_ms: elapsed() },
      stale_socket: false,
    });
  }
  const https = url.protocol === "https:";
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    const finish = (attempt: Omit<HttpAttempt, "latency_ms">, stale_socket = false) => {
      if (settled) return;
      settled = true;
      resolve({ attempt: { ...attempt, latency_ms: elapsed() }, stale_socket });
    };
    const request = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: "POST",
        agent: https ? agents.https : agents.http,
        lookup: guardedLookup(allow_private, resolver) as never,
        timeout: timeout_ms,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "ClearSplit-Webhooks/1",
        },
      },
      (response: IncomingMessage) => {
        answered = true;
        // Read (and drop) a bounded response so the socket can be reused.
        let bytes = 0;
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > webhook_response_bytes_max) response.destroy();
        });
        const done = () =>
          finish({
            status_code: response.statusCode ?? null,
            retry_after: headerText(response.headers["retry-after"]),
            error: null,
          });
        response.on("end", done);
        response.on("close", done);
        response.on("error", done);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeout_ms} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) =>
      finish(
        { status_code: null, retry_after: null, error: messageOf(error) },
        request.reusedSocket && !answered && error.code === "ECONNRESET",
      ),
    );
    request.end(body);
  });
}

function headerText(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}
