import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhook_sockets_per_origin_max } from "../../core/limits.ts";
import { pipeliningFromEnv, postWebhook, socketsPerOrigin } from "./webhook-http.ts";

// A kept-alive connection the receiver has dropped fails the next request
// before any answer; the sender goes again at once on a fresh connection
// instead of leaving the delivery to the retry schedule.

let server: Server;
let url: string;
const connections = new Set<Socket>();
let requests = 0;

beforeAll(async () => {
  const served = new WeakMap<Socket, number>();
  server = createServer((request, response) => {
    requests++;
    const socket = request.socket;
    const count = (served.get(socket) ?? 0) + 1;
    served.set(socket, count);
    // The second request on a connection finds it gone, as after the receiver's idle timeout.
    if (count > 1) {
      socket.destroy();
      return;
    }
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  server.on("connection", (socket: Socket) => connections.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("postWebhook", () => {
  it("sends again on a fresh connection when a reused one was closed under it", async () => {
    const first = await postWebhook(url, { "webhook-id": "msg_1" }, "{}", true);
    expect(first).toMatchObject({ status_code: 204, error: null });
    // Let the first socket go back to the agent's free pool.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await postWebhook(url, { "webhook-id": "msg_2" }, "{}", true);
    expect(second).toMatchObject({ status_code: 204, error: null });
    expect(connections.size).toBe(2);
    expect(requests).toBe(3);
  });
});

// The client against a raw TCP receiver that answers in each framing a
// receiver may use, or not at all.
describe("postWebhook on the wire", () => {
  let raw: NetServer;
  let raw_url: string;
  let answer: (request: string, socket: Socket) => void = () => undefined;
  const heads: string[] = [];
  let raw_connections = 0;
  const raw_sockets = new Set<Socket>();
  /** The most complete requests one read of the raw receiver held. */
  let requests_per_read_max = 0;

  beforeAll(async () => {
    raw = createNetServer((socket) => {
      raw_connections++;
      raw_sockets.add(socket);
      let text = "";
      // Requests may come pipelined, several in one chunk: each complete one is answered in turn.
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        for (let in_read = 1; ; in_read++) {
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) return;
          const length = Number(/\r\ncontent-length: (\d+)/.exec(text.slice(0, end))?.[1] ?? 0);
          if (text.length - (end + 4) < length) return;
          const request = Buffer.from(text.slice(0, end + 4 + length), "latin1").toString("utf8");
          text = text.slice(end + 4 + length);
          heads.push(request.slice(0, end));
          requests_per_read_max = Math.max(requests_per_read_max, in_read);
          answer(request, socket);
        }
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    raw_url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/raw?x=1`;
  });
  afterAll(async () => {
    for (const socket of raw_sockets) socket.destroy();
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  });

  it("sends the body's UTF-8 byte length and the headers given, and reads a chunked answer", async () => {
    const body = JSON.stringify({ name: "商户甲", amount_minor: 1 });
    let received = "";
    answer = (request, socket) => {
      received = request.slice(request.indexOf("\r\n\r\n") + 4);
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    };
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_utf8" }, body, true);
    expect(attempt).toMatchObject({ status_code: 200, error: null });
    expect(received).toBe(body);
    const head = heads.at(-1)!;
    expect(head.split("\r\n")[0]).toBe("POST /raw?x=1 HTTP/1.1");
    expect(head).toContain("\r\nwebhook-id: msg_utf8");
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body)}`);
    expect(head).toContain(`\r\nhost: 127.0.0.1:${new URL(raw_url).port}`);
  });

  it("reads an answer framed by the connection's end, and Retry-After", async () => {
    answer = (_request, socket) => socket.end("HTTP/1.1 503 Busy\r\nRetry-After: 7\r\n\r\ncome back later");
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_close" }, "{}", true);
    expect(attempt).toMatchObject({ status_code: 503, retry_after: "7", error: null });
  });

  it("skips an interim 103 head and reads the final one", async () => {
    answer = (_request, socket) =>
      socket.write(
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 429 Slow Down\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n",
      );
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_103" }, "{}", true);
    expect(attempt).toMatchObject({ status_code: 429, retry_after: "30", error: null });
  });

  it("reads at most 4 KiB of an answer: a longer one is cut off, its status kept", async () => {
    answer = (_request, socket) =>
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${"x".repeat(8_192)}`);
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_long" }, "{}", true, 5_000);
    expect(attempt).toMatchObject({ status_code: 200, error: null });
    expect(attempt.latency_ms).toBeLessThan(2_000);
  });

  it("gives up on a receiver that does not answer within the timeout", async () => {
    answer = () => undefined;
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_silent" }, "{}", true, 50);
    expect(attempt).toMatchObject({ status_code: null, error: "no answer within 50 ms" });
    expect(attempt.latency_ms).toBeGreaterThanOrEqual(45);
  });

  it("reports an answer that is not HTTP", async () => {
    answer = (_request, socket) => socket.write("hello there\r\n\r\n");
    const attempt = await postWebhook(raw_url, { "webhook-id": "msg_garbage" }, "{}", true);
    expect(attempt.status_code).toBeNull();
    expect(attempt.error).toMatch(/HTTP\/1\.1/);
  });

  it("keeps connections alive, at most webhook_sockets_per_origin_max to one origin", async () => {
    answer = (_request, socket) => setTimeout(() => socket.write("HTTP/1.1 204 No Content\r\n\r\n"), 5);
    const before = raw_connections;
    const attempts = await Promise.all(
      Array.from({ length: webhook_sockets_per_origin_max + 8 }, (_, i) =>
        postWebhook(raw_url, { "webhook-id": `msg_${i}` }, "{}", true),
      ),
    );
    expect(attempts.every((attempt) => attempt.status_code === 204)).toBe(true);
    const opened = raw_connections - before;
    expect(opened).toBeLessThanOrEqual(webhook_sockets_per_origin_max);
    await postWebhook(raw_url, { "webhook-id": "msg_again" }, "{}", true);
    expect(raw_connections - before).toBe(opened);
  });

  it("pipelines: requests posted at once leave several to a write on a few connections, each answered", async () => {
    answer = (request, socket) => {
      const id = /\r\nwebhook-id: (\S+)/.exec(request)?.[1];
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${id?.length ?? 0}\r\n\r\n${id ?? ""}`);
    };
    requests_per_read_max = 0;
    const before = raw_connections;
    const pipelining = 32;
    const count = socketsPerOrigin(pipelining) * pipelining;
    const attempts = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        postWebhook(
          raw_url,
          { "webhook-id": `msg_p${i}` },
          "{}",
          true,
          undefined,
          undefined,
          undefined,
          pipelining,
        ),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status_code === 200)).toHaveLength(count);
    expect(raw_connections - before).toBeLessThanOrEqual(socketsPerOrigin(pipelining));
    expect(requests_per_read_max).toBeGreaterThan(1);
  });

  it("a receiver that answers one request per connection and closes still gets every delivery, once answered", async () => {
    const answered = new Set<string>();
    answer = (request, socket) => {
      if (socket.readyState !== "open" || (socket as Socket & { answered?: boolean }).answered) return;
      (socket as Socket & { answered?: boolean }).answered = true;
      answered.add(/\r\nwebhook-id: (\S+)/.exec(request)?.[1] ?? "");
      // Whatever was pipelined behind the first request is dropped unanswered, as a server that does not
      // pipeline does; undici sends it again on a new connection.
      socket.end("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    };
    const pipelining = 32;
    const count = 3 * socketsPerOrigin(pipelining);
    const attempts = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        postWebhook(
          raw_url,
          { "webhook-id": `msg_c${i}` },
          "{}",
          true,
          undefined,
          undefined,
          undefined,
          pipelining,
        ),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status_code === 204)).toHaveLength(count);
    expect(answered.size).toBe(count);
  });
});

describe("pipeliningFromEnv", () => {
  it("reads requests per connection from 1 to the limit, 1 (no pipelining) when unset, and refuses anything else", () => {
    expect(pipeliningFromEnv(undefined)).toBe(1);
    expect(pipeliningFromEnv("1")).toBe(1);
    expect(pipeliningFromEnv("64")).toBe(64);
    for (const bad of ["0", "65", "2.5", "many"]) expect(() => pipeliningFromEnv(bad)).toThrow(/PIPELINING/);
  });
});

// A self-signed certificate for localhost, made for this test only (openssl req -x509, P-256).
const test_certificate = `-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUe0mn/iBccxzCddwKZqTymxUFvlMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzEyMzMyNloYDzIxMjYxMTEz
MTIzMzI2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASP2kOoYDCYrwrKucTWBqiVO9CSAjx2WCLh0Kj7kbeLDh7aWYiH8kwG
pMdSUINBi7E5XlVi8qhFU08jZyrLktI3o1MwUTAdBgNVHQ4EFgQUrq9AqklwR32L
jXCN06ZBccGWvP4wHwYDVR0jBBgwFoAUrq9AqklwR32LjXCN06ZBccGWvP4wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAgx47BCHMNw6bt2Jl9aCo
TE6fp3h8jWWn1F3wm925EAMCIQDCJaAoUKcTznvLMtrYnXi3sAYv9xnnmo8y6c42
yduSfQ==
-----END CERTIFICATE-----`;
const test_key = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM2xcNK3rrXncOiuW
Ae9ENf4sWq/RRlCUhthsF1RlRJWhRANCAASP2kOoYDCYrwrKucTWBqiVO9CSAjx2
WCLh0Kj7kbeLDh7aWYiH8kwGpMdSUINBi7E5XlVi8qhFU08jZyrLktI3
-----END PRIVATE KEY-----`;

describe("postWebhook over TLS", () => {
  it("checks the receiver's certificate: a self-signed one is refused, nothing is sent", async () => {
    let requests_seen = 0;
    const server = createTlsServer({ cert: test_certificate, key: test_key }, (socket) => {
      socket.on("data", () => requests_seen++);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const attempt = await postWebhook(
        `https://localhost:${port}/hooks`,
        { "webhook-id": "msg_tls" },
        "{}",
        true,
      );
      expect(attempt.status_code).toBeNull();
      expect(attempt.error).toMatch(/self[- ]signed/i);
      expect(requests_seen).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("posts over TLS to a receiver whose certificate a trusted CA signed, with SNI", async () => {
    const seen: { servername: string | null; body: string }[] = [];
    const server = createHttpsServer({ cert: test_certificate, key: test_key }, (request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => {
        body += chunk;
      });
      request.on("end", () => {
        seen.push({ servername: (request.socket as TLSSocket).servername || null, body });
        response.writeHead(202).end("accepted");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const attempt = await postWebhook(
        `https://localhost:${port}/hooks`,
        { "webhook-id": "msg_tls_ok" },
        '{"ok":true}',
        true,
        undefined,
        undefined,
        test_certificate,
      );
      expect(attempt).toMatchObject({ status_code: 202, error: null });
      expect(seen).toEqual([{ servername: "localhost", body: '{"ok":true}' }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
