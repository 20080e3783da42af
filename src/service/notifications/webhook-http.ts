import { isIP, type Socket } from "node:net";
import { Agent, buildConnector } from "undici";
import { assert } from "../../core/assert.ts";
import {
  webhook_requests_per_socket_default,
  webhook_requests_per_socket_max,
  webhook_response_bytes_max,
  webhook_sockets_per_origin_max,
  webhook_sockets_per_origin_pipelined,
  webhook_timeout_ms,
} from "../../core/limits.ts";
import {
  checkWebhookUrl,
  guardedLookup,
  isPrivateAddress,
  type Resolver,
  systemResolver,
} from "./address-guard.ts";

// One webhook POST, on a kept-alive connection of its origin, sent with
// undici (HTTP/1.1 framing, TLS, SNI and certificate checks, connection
// pooling are the library's). The URL is checked again here, and every new
// connection's DNS answer is checked inside the socket's own lookup (undici's
// `connect.lookup`), so what was public when the endpoint was saved cannot
// have become private since.

/**
 * Requests pipelined on each connection: CLEARSPLIT_WEBHOOK_PIPELINING, or 1 (no pipelining) when unset.
 * Pipelining is the operator's choice for a receiver known to handle it: HTTP/1.1 advises against
 * pipelining POSTs (RFC 9112 §9.3.2), and one slow answer holds back every request queued behind it on
 * its connection (decisions §37).
 */
export function pipeliningFromEnv(text = process.env.CLEARSPLIT_WEBHOOK_PIPELINING): number {
  if (text === undefined || text === "") return webhook_requests_per_socket_default;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > webhook_requests_per_socket_max)
    throw new Error(
      `CLEARSPLIT_WEBHOOK_PIPELINING must be 1 to ${webhook_requests_per_socket_max}, not ${text}`,
    );
  return value;
}

/** Requests pipelined per connection in this process, read once. */
export const webhook_pipelining = pipeliningFromEnv();

/** Connections per origin: fewer when each carries a pipeline, so as many requests are in flight either way. */
export function socketsPerOrigin(pipelining: number): number {
  return pipelining > 1 ? webhook_sockets_per_origin_pipelined : webhook_sockets_per_origin_max;
}

/** An idle connection older than this is closed rather than reused: receivers time out idle ones at about 5 s. */
export const idle_socket_ms_max = 4_000;

export interface HttpAttempt {
  status_code: number | null;
  retry_after: string | null;
  error: string | null;
  latency_ms: number;
}

type Target = { origin: string; path: string };

/** The parsed, checked target of a URL text: memoised, as every delivery of an endpoint has the same URL. */
const targets = new Map<string, Target>();
const targets_max = 1_000;

function targetOf(url_text: string, allow_private: boolean): Target {
  const key = `${allow_private ? 1 : 0}${url_text}`;
  const known = targets.get(key);
  if (known !== undefined) return known;
  const url = checkWebhookUrl(url_text, allow_private);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allow_private && isIP(host) !== 0 && isPrivateAddress(host))
    throw new Error(`${host} is a private address`);
  const target: Target = { origin: url.origin, path: `${url.pathname || "/"}${url.search}` };
  if (targets.size >= targets_max) targets.clear();
  targets.set(key, target);
  return target;
}

/**
 * An undici Agent and the sockets it has open. Requests are pipelined (decisions §37): up to
 * `webhook_pipelining` on each of a few kept-alive connections, and the sockets are corked
 * while the sender hands a batch over in one go, so the requests of a batch leave in a few writes
 * rather than one system call each, and the receiver reads them in a few reads.
 */
interface Pool {
  agent: Agent;
  sockets: Set<Socket>;
  /** Sockets corked until the end of this tick (each uncorked once, then the list is emptied). */
  corked: Socket[];
}

/**
 * One pool for each address policy, resolver, timeout and trusted CA: the policy and the resolver are in
 * the connections' lookup, so connections made under one are never reused under another.
 */
const pools_by_resolver = new WeakMap<Resolver, Map<string, Pool>>();

function poolOf(
  allow_private: boolean,
  resolver: Resolver,
  timeout_ms: number,
  ca: string | undefined,
  pipelining: number,
): Pool {
  let pools = pools_by_resolver.get(resolver);
  if (pools === undefined) {
    pools = new Map();
    pools_by_resolver.set(resolver, pools);
  }
  const key = `${allow_private ? 1 : 0}:${timeout_ms}:${pipelining}:${ca ?? ""}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    const sockets = new Set<Socket>();
    // undici's own connector (TLS, SNI, certificate checks, the guarded lookup), told of each socket it opens.
    const connector = buildConnector({
      timeout: timeout_ms,
      lookup: guardedLookup(allow_private, resolver) as never,
      ...(ca === undefined ? {} : { ca }),
    });
    const connect: buildConnector.connector = (options, callback) =>
      connector(options, (error, socket) => {
        if (error === null && socket !== null && socket !== undefined) {
          const plain = socket as Socket;
          sockets.add(plain);
          plain.once("close", () => sockets.delete(plain));
        }
        (callback as (error: Error | null, socket: unknown) => void)(error, socket);
      });
    const agent = new Agent({
      connections: socketsPerOrigin(pipelining),
      pipelining,
      keepAliveTimeout: idle_socket_ms_max,
      keepAliveMaxTimeout: idle_socket_ms_max,
      headersTimeout: timeout_ms,
      bodyTimeout: timeout_ms,
      connect,
    });
    pool = { agent, sockets, corked: [] };
    pools.set(key, pool);
  }
  return pool;
}

/** Corks the pool's open sockets until the current tick ends: what is dispatched meanwhile leaves in one write per socket. */
function corkForThisTick(pool: Pool): void {
  if (pool.corked.length > 0 || pool.sockets.size === 0) return;
  for (const socket of pool.sockets) {
    socket.cork();
    pool.corked.push(socket);
  }
  process.nextTick(() => {
    const corked = pool.corked;
    pool.corked = [];
    for (const socket of corked) socket.uncork();
  });
}

const fixed_headers = { "content-type": "application/json", "user-agent": "ClearSplit-Webhooks/1" };

/**
 * POSTs a signed webhook body. `ca` is a certificate authority to trust besides the system's (a
 * receiver behind a private CA; tests); certificates are always checked.
 */
export async function postWebhook(
  url_text: string,
  headers: Record<string, string>,
  body: string,
  allow_private: boolean,
  timeout_ms = webhook_timeout_ms,
  resolver: Resolver = systemResolver,
  ca?: string,
  pipelining = webhook_pipelining,
): Promise<HttpAttempt> {
  assert(timeout_ms >= 1 && timeout_ms <= 60_000, "webhook timeout out of range");
  const started = performance.now();
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  let target: Target;
  try {
    target = targetOf(url_text, allow_private);
  } catch (error) {
    return { status_code: null, retry_after: null, error: messageOf(error), latency_ms: elapsed() };
  }
  const pool = poolOf(allow_private, resolver, timeout_ms, ca, pipelining);
  const agent = pool.agent;
  const all_headers = { ...headers, ...fixed_headers };
  corkForThisTick(pool);
  let outcome = await postOnce(agent, target, all_headers, body, timeout_ms);
  // A kept-alive connection the receiver closed while idle fails before any answer: the request never
  // got one, so it goes again at once (undici fails the first request on a closed connection and sends
  // again only those pipelined behind it) rather than waiting out the retry schedule. Same webhook-id and body, so a receiver that did see it can tell.
  if (outcome.closed_before_answer) outcome = await postOnce(agent, target, all_headers, body, timeout_ms);
  return { ...outcome.attempt, latency_ms: elapsed() };
}

type Outcome = { attempt: Omit<HttpAttempt, "latency_ms">; closed_before_answer: boolean };

/**
 * One request through undici's dispatcher interface: the status and Retry-After are taken from the
 * head, and the body is counted and dropped (past webhook_response_bytes_max the request is aborted, which
 * closes the connection instead of draining it), with no response stream per request.
 */
function postOnce(
  agent: Agent,
  target: Target,
  headers: Record<string, string>,
  body: string,
  timeout_ms: number,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let status_code: number | null = null;
    let retry_after: string | null = null;
    let bytes = 0;
    const answered = () =>
      resolve({ attempt: { status_code, retry_after, error: null }, closed_before_answer: false });
    agent.dispatch(
      // Idempotent: a webhook is, by its webhook-id (receivers deduplicate on it), so undici may pipeline
      // it behind others and send it again on a new connection when one closes before answering it. Not
      // blocking: the next request may follow on the connection before this one's answer has come.
      {
        origin: target.origin,
        path: target.path,
        method: "POST",
        headers,
        body,
        idempotent: true,
        blocking: false,
      },
      {
        // Its presence tells undici this handler speaks the controller interface.
        onRequestStart() {},
        onResponseStart(_controller, status, response_headers) {
          if (status < 200) return; // an interim head (103 Early Hints): the final one follows
          status_code = status;
          const value = response_headers["retry-after"];
          retry_after = (Array.isArray(value) ? value[0] : value) ?? null;
        },
        onResponseData(controller, chunk) {
          bytes += chunk.length;
          if (bytes > webhook_response_bytes_max) controller.abort(new Error("answer longer than read"));
        },
        onResponseEnd: answered,
        onResponseError(_controller, error) {
          // After the head, a cut-short or over-long body still leaves the answer's status.
          if (status_code !== null) return answered();
          resolve({
            attempt: { status_code: null, retry_after: null, error: errorText(error, timeout_ms) },
            closed_before_answer: closedBeforeAnswer(error),
          });
        },
      },
    );
  });
}

/** The connection closed or was reset with no byte of an answer (undici's SocketError, or the OS's). */
function closedBeforeAnswer(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNRESET" || code === "EPIPE") return true;
  if (code !== "UND_ERR_SOCKET") return false;
  const message = (error as Error).message;
  return message === "other side closed" || message === "closed";
}

function errorText(error: unknown, timeout_ms: number): string {
  const code = (error as { code?: unknown }).code;
  if (
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT"
  )
    return `no answer within ${timeout_ms} ms`;
  return messageOf(error);
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}
