import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { assert } from "../../core/assert.ts";
import {
  checkWebhookUrl,
  guardedLookup,
  isPrivateAddress,
  type Resolver,
  systemResolver,
} from "./address-guard.ts";
import { ResponseReader } from "./http-response-reader.ts";

// One webhook POST, on a kept-alive connection of its origin. The URL is
// checked again here, and the connection's DNS answer is checked inside the
// socket's own lookup, so what was public when the endpoint was saved cannot
// have become private since.
//
// The client is HTTP/1.1 written out, not node:http: a webhook request is one
// write of a head we build (every value ours: the id, the timestamp, the
// signature, the URL's host and path as the URL parser normalised them) and
// the answer needs only its status, Retry-After and framing
// (http-response-reader.ts). node:http spent 60–100 µs of CPU a request on
// things a webhook does not use (header objects and validation, streams for
// the request and the response, events, per-socket timers); this spends about
// 15 (docs/notifications.md, "Performance"). One request at a time on each
// connection, never pipelined.

export const webhook_timeout_ms = 15_000;
export const response_bytes_max = 4_096;
export const sockets_per_origin_max = 32;
/** An idle connection older than this is closed rather than reused: receivers time out idle ones at about 5 s. */
export const idle_socket_ms_max = 4_000;

export interface HttpAttempt {
  status_code: number | null;
  retry_after: string | null;
  error: string | null;
  latency_ms: number;
}

type Target = { https: boolean; host: string; port: number; servername: string | null; head_start: string };

/** A connection, and the request it carries now (null while idle). */
type Connection = { socket: Socket; request: Exchange | null; idle_since: number };
type Exchange = {
  reader: ResponseReader;
  on_result: (result: {
    error: string | null;
    status_code?: number;
    retry_after?: string | null;
    reusable?: boolean;
  }) => void;
};

/** Kept-alive connections to one origin, for one address policy (allow_private) and one resolver. */
class OriginPool {
  readonly idle: Connection[] = [];
  open = 0;
  readonly waiting: (() => void)[] = [];
  constructor(
    readonly target: Target,
    readonly allow_private: boolean,
    readonly resolver: Resolver,
  ) {}
}

const pools_by_resolver = new WeakMap<Resolver, Map<string, OriginPool>>();

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
  const https = url.protocol === "https:";
  const path = `${url.pathname || "/"}${url.search}`;
  // The URL parser percent-encodes what may not stand in a request line or a Host header.
  assert(!/[\s]/.test(path) && !/[\s]/.test(url.host), "a parsed URL has no white space in its path or host");
  const target: Target = {
    https,
    host,
    port: url.port === "" ? (https ? 443 : 80) : Number(url.port),
    servername: https && isIP(host) === 0 ? host : null,
    head_start: `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\nuser-agent: ClearSplit-Webhooks/1\r\ncontent-type: application/json\r\n`,
  };
  if (targets.size >= targets_max) targets.clear();
  targets.set(key, target);
  return target;
}

function poolOf(target: Target, allow_private: boolean, resolver: Resolver): OriginPool {
  let pools = pools_by_resolver.get(resolver);
  if (pools === undefined) {
    pools = new Map();
    pools_by_resolver.set(resolver, pools);
  }
  const key = `${allow_private ? 1 : 0}${target.https ? "s" : ""}${target.host}:${target.port}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new OriginPool(target, allow_private, resolver);
    pools.set(key, pool);
  }
  return pool;
}

export async function postWebhook(
  url_text: string,
  headers: Record<string, string>,
  body: string,
  allow_private: boolean,
  timeout_ms = webhook_timeout_ms,
  resolver: Resolver = systemResolver,
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
  let head = target.head_start;
  for (const name in headers) {
    const value = headers[name]!;
    assert(!/[\r\n]/.test(value) && !/[\r\n:]/.test(name), "a webhook header is one line");
    head += `${name}: ${value}\r\n`;
  }
  const request = `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const pool = poolOf(target, allow_private, resolver);
  const deadline = started + timeout_ms;
  const first = await exchange(pool, request, deadline, timeout_ms);
  // A kept-alive connection the receiver closed while idle fails before any answer: the request never
  // reached it, so it goes again at once on a fresh connection (as browsers do) rather than waiting
  // out the retry schedule. Same webhook-id and body, so a receiver that did see it can tell.
  const outcome = first.stale ? await exchange(pool, request, deadline, timeout_ms, true) : first;
  return {
    status_code: outcome.status_code ?? null,
    retry_after: outcome.retry_after ?? null,
    error: outcome.error,
    latency_ms: elapsed(),
  };
}

type Outcome = { error: string | null; status_code?: number; retry_after?: string | null; stale: boolean };

/** One request on one connection of the pool (a fresh one when `fresh`), within the deadline. */
async function exchange(
  pool: OriginPool,
  request: string,
  deadline: number,
  timeout_ms: number,
  fresh = false,
): Promise<Outcome> {
  const timed_out = `no answer within ${timeout_ms} ms`;
  let connection: Connection;
  try {
    connection = await take(pool, fresh, deadline, timed_out);
  } catch (error) {
    return { error: messageOf(error), stale: false };
  }
  const reused = connection.idle_since > 0;
  return new Promise<Outcome>((resolve) => {
    const reader = new ResponseReader(response_bytes_max);
    const timer = setTimeout(
      () => connection.socket.destroy(new Error(timed_out)),
      Math.max(1, deadline - performance.now()),
    );
    connection.request = {
      reader,
      on_result: (result) => {
        clearTimeout(timer);
        connection.request = null;
        if (result.error === null && result.reusable === true) release(pool, connection);
        else {
          connection.socket.destroy();
          leave(pool);
        }
        resolve({ ...result, stale: result.error !== null && reused && !reader.started });
      },
    };
    connection.socket.write(request, "utf8");
  });
}

/** An idle connection of the pool, or a new one when there is room; waits for a free one otherwise. */
async function take(
  pool: OriginPool,
  fresh: boolean,
  deadline: number,
  timed_out: string,
): Promise<Connection> {
  for (;;) {
    while (!fresh && pool.idle.length > 0) {
      const connection = pool.idle.pop()!;
      if (performance.now() - connection.idle_since <= idle_socket_ms_max && !connection.socket.destroyed) {
        connection.socket.ref();
        return connection;
      }
      connection.socket.destroy();
      leave(pool);
    }
    if (pool.open < sockets_per_origin_max) {
      pool.open++;
      return open(pool, deadline, timed_out);
    }
    await new Promise<void>((resolve) => pool.waiting.push(resolve));
  }
}

function open(pool: OriginPool, deadline: number, timed_out: string): Promise<Connection> {
  const { target } = pool;
  const lookup = guardedLookup(pool.allow_private, pool.resolver) as never;
  const socket = target.https
    ? tlsConnect({
        host: target.host,
        port: target.port,
        lookup,
        ALPNProtocols: ["http/1.1"],
        ...(target.servername === null ? {} : { servername: target.servername }),
      })
    : netConnect({ host: target.host, port: target.port, lookup });
  socket.setNoDelay(true);
  const connection: Connection = { socket, request: null, idle_since: 0 };
  const fail = (message: string) => {
    const current = connection.request;
    if (current === null) return;
    const result = current.reader.end();
    if (result.kind === "done") current.on_result({ error: null, ...result, reusable: false });
    else current.on_result({ error: message });
  };
  socket.on("data", (chunk: Buffer) => {
    const current = connection.request;
    if (current === null) return void socket.destroy(); // bytes nobody asked for: the connection is unusable
    const result = current.reader.feed(chunk);
    if (result.kind === "done") current.on_result({ error: null, ...result });
    else if (result.kind === "invalid") current.on_result({ error: result.error });
  });
  socket.on("end", () => {
    fail("the receiver closed the connection without an answer");
    socket.destroy();
  });
  socket.on("error", (error: Error) => fail(messageOf(error)));
  socket.on("close", () => {
    fail("the connection closed without an answer");
    const at = pool.idle.indexOf(connection);
    if (at >= 0) {
      pool.idle.splice(at, 1);
      leave(pool);
    }
  });
  return new Promise<Connection>((resolve, reject) => {
    const timer = setTimeout(
      () => socket.destroy(new Error(timed_out)),
      Math.max(1, deadline - performance.now()),
    );
    const ready = target.https ? "secureConnect" : "connect";
    const failed = (error: Error) => {
      clearTimeout(timer);
      leave(pool);
      reject(error);
    };
    socket.once("error", failed);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off("error", failed);
      resolve(connection);
    });
  });
}

/** Back to the idle list, unreferenced so that an idle connection does not keep the process alive. */
function release(pool: OriginPool, connection: Connection): void {
  connection.idle_since = performance.now();
  connection.socket.unref();
  pool.idle.push(connection);
  pool.waiting.shift()?.();
}

/** A connection of the pool is gone: its slot is free. */
function leave(pool: OriginPool): void {
  pool.open--;
  assert(pool.open >= 0, "an origin pool never has fewer than no connections");
  pool.waiting.shift()?.();
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}
