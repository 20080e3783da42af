import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import type { Database } from "../store/database.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { startTestServer, type TestServer } from "../testing/http.ts";
import { countJournal, expectLedgerInvariants } from "../testing/invariants.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { ClearSplitError, createClearSplitClient } from "./index.ts";
import { retryAfterMs, retryingFetch } from "./retrying-fetch.ts";

// The typed client against a real server on loopback, and a real proxy in
// front of it that fails on purpose, to show retries never book twice.

let db: Database;
let ctx: ServiceContext;
let tenant: string;
let key: string;
let server: TestServer;
beforeAll(async () => {
  db = await openTestDatabase();
  // The real clock: the quickstart books an order paid a minute ago, as a mall would.
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "client");
  await seedExampleMarketplace(ctx, tenant);
  ({ key } = await createApiKey(ctx, tenant, { name: "client test", role: "platform_admin" }));
  server = await startTestServer(ctx, key);
});
afterAll(async () => {
  await expectLedgerInvariants(db, tenant);
  await server.close();
  await db.close();
});

const instant = { sleep: async () => {} };

function order(id: string): typeof issue_order {
  return { ...issue_order, id };
}

interface ProxyLog {
  method: string;
  path: string;
  idempotency_key: string | undefined;
}

/**
 * A loopback proxy to the test server whose first answers are scripted:
 * `503`, `429` (with Retry-After: 0) or `drop` (the socket is destroyed).
 */
async function scriptedProxy(
  script: ("503" | "429" | "drop")[],
): Promise<{ url: string; log: ProxyLog[]; close(): Promise<void> }> {
  const log: ProxyLog[] = [];
  const proxy: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    log.push({
      method: request.method ?? "",
      path: request.url ?? "",
      idempotency_key: request.headers["idempotency-key"] as string | undefined,
    });
    const step = script.shift();
    if (step === "drop") return request.socket.destroy();
    if (step === "503" || step === "429") {
      response.writeHead(Number(step), { "retry-after": "0", "content-type": "application/problem+json" });
      return response.end(
        JSON.stringify({ status: Number(step), code: step === "429" ? "rate_limited" : "not_ready" }),
      );
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string" && name !== "host" && name !== "content-length") headers[name] = value;
    }
    const upstream = await fetch(`${server.url}${request.url}`, {
      method: request.method,
      headers,
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    const upstream_headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "content-encoding" && name !== "transfer-encoding")
        upstream_headers[name] = value;
    });
    response.writeHead(upstream.status, upstream_headers);
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

describe("typed client", () => {
  it("books, lists across pages, refunds and reads a balance", async () => {
    const client = createClearSplitClient({ baseUrl: server.url, apiKey: key });
    const ids = ["CL-A-1", "CL-A-2", "CL-A-3", "CL-A-4", "CL-A-5"];
    for (const id of ids) {
      const booked = await client.orders.create(order(id));
      expect(booked.order_id ?? booked.id).toBe(id);
      const sum = booked.legs.reduce(
        (total: number, leg: { amount_minor: number }) => total + leg.amount_minor,
        0,
      );
      expect(sum).toBe(issue_order.paid_minor);
    }
    const listed: string[] = [];
    for await (const item of client.orders.list({ limit: 2 })) listed.push(item.order_id ?? item.id);
    expect(listed.filter((id) => id.startsWith("CL-A-")).sort()).toEqual(ids);
    expect(new Set(listed).size).toBe(listed.length);

    const refund = await client.orders.refund("CL-A-1", { refund_id: "CL-RF-1", amount_minor: 50000 });
    expect(JSON.stringify(refund)).toContain("CL-RF-1");
    const balances = await client.parties.balances("m-1001");
    expect(balances.balances.length).toBeGreaterThan(0);
    const trial = await client.ledger.trialBalance();
    expect(trial.balanced).toBe(true);
  });

  it("turns a problem+json answer into a typed error with status, code and field", async () => {
    const client = createClearSplitClient({ baseUrl: server.url, apiKey: key });
    const bad = { ...order("CL-BAD-1"), paid_minor: 1 };
    const error = await client.orders.create(bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClearSplitError);
    const typed = error as ClearSplitError;
    expect(typed.status).toBeGreaterThanOrEqual(400);
    expect(typed.status).toBeLessThan(500);
    expect(typed.code).toMatch(/^[a-z_]+$/);
    expect(typed.field).toBe("paid_minor");
    expect(typed.attempts).toBe(1);
    const missing = await client.orders.get("CL-NOPE").catch((caught: unknown) => caught);
    expect((missing as ClearSplitError).status).toBe(404);
    const unauthorized = createClearSplitClient({ baseUrl: server.url, apiKey: "cs_live_x_y" });
    expect(((await unauthorized.me().catch((caught: unknown) => caught)) as ClearSplitError).status).toBe(
      401,
    );
  });

  // Proves a write retried after 503, 429 and a dropped connection carries
  // one Idempotency-Key throughout and books exactly once.
  it("retries a write with the same Idempotency-Key and books it once", async () => {
    const proxy = await scriptedProxy(["503", "429", "drop"]);
    try {
      const before = await countJournal(db, tenant);
      const client = createClearSplitClient({ baseUrl: proxy.url, apiKey: key, retry: instant });
      const booked = await client.orders.create(order("CL-RETRY-1"));
      expect(booked.order_id ?? booked.id).toBe("CL-RETRY-1");
      expect(proxy.log).toHaveLength(4);
      const keys = new Set(proxy.log.map((entry) => entry.idempotency_key));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
      expect((await countJournal(db, tenant)).transactions).toBe(before.transactions + 1n);
      // Another call gets another key.
      await client.orders.complete("CL-RETRY-1");
      expect(new Set(proxy.log.map((entry) => entry.idempotency_key)).size).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("gives up after its bound with a typed error", async () => {
    const proxy = await scriptedProxy(["503", "503", "503", "503"]);
    try {
      const client = createClearSplitClient({
        baseUrl: proxy.url,
        apiKey: key,
        retry: { ...instant, attempts_max: 3 },
      });
      const error = (await client.orders
        .create(order("CL-GIVEUP-1"))
        .catch((caught: unknown) => caught)) as ClearSplitError;
      expect(error).toBeInstanceOf(ClearSplitError);
      expect(error.status).toBe(503);
      expect(error.attempts).toBe(3);
      expect(proxy.log).toHaveLength(3);
    } finally {
      await proxy.close();
    }
    const unreachable = createClearSplitClient({
      baseUrl: "http://127.0.0.1:9",
      apiKey: key,
      retry: { ...instant, attempts_max: 2 },
    });
    const network = (await unreachable.ledger
      .trialBalance()
      .catch((caught: unknown) => caught)) as ClearSplitError;
    expect(network.code).toBe("network_error");
    expect(network.attempts).toBe(2);
  });

  it("never retries a write that has no Idempotency-Key", async () => {
    const proxy = await scriptedProxy(["503"]);
    try {
      const send = retryingFetch({ attempts_max: 5, base_delay_ms: 1, delay_ms_max: 1, ...instant });
      const response = await send(new Request(`${proxy.url}/v1/orders`, { method: "POST", body: "{}" }));
      expect(response.status).toBe(503);
      expect(proxy.log).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
    const now_ms = Date.parse("2026-11-30T00:00:00Z");
    expect(retryAfterMs("Mon, 30 Nov 2026 00:00:05 GMT", now_ms)).toBe(5000);
  });
});

describe("examples/client/quickstart.ts", () => {
  it("runs to the end against a real server and exits 0", async () => {
    const { spawn } = await import("node:child_process");
    const { resolve } = await import("node:path");
    const root = resolve(import.meta.dirname, "../..");
    const run = await new Promise<{ code: number; output: string }>((done) => {
      const child = spawn(process.execPath, ["--import", "tsx", "examples/client/quickstart.ts"], {
        cwd: root,
        env: { ...process.env, CLEARSPLIT_URL: server.url, CLEARSPLIT_KEY: key },
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("close", (code) => done({ code: code ?? -1, output }));
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^booked QS-\d+:/m);
    expect(run.output).toMatch(/^listed \d+ orders$/m);
    expect(run.output).toMatch(/^refunded 5000 of QS-\d+$/m);
    expect(run.output).toMatch(/^refused: 4\d\d [a-z_]+ \(field paid_minor\)/m);
  });
});
