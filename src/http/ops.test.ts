import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase } from "../store/scratch-database.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { buildApp } from "./app.ts";

// Operational health: metrics, request ids on every log line and response,
// no credentials in logs, readiness that follows the database, and a
// graceful SIGTERM.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("operational health", () => {
  it("serves Prometheus metrics and logs JSON lines carrying the request id, never the key", async () => {
    const ctx: ServiceContext = { db, now: () => new Date() };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant);
    const { key } = await createApiKey(ctx, tenant, { name: "t", role: "platform_admin" });
    const lines: string[] = [];
    const app = await buildApp({ ctx, log_stream: { write: (line) => void lines.push(line) } });
    const booked = await app.inject({
      method: "POST",
      url: "/v1/orders",
      headers: { authorization: `Bearer ${key}`, "x-request-id": "trace-abc.1" },
      payload: issue_order,
    });
    expect(booked.statusCode).toBe(201);
    expect(booked.headers["x-request-id"]).toBe("trace-abc.1");
    const bad = await app.inject({
      url: "/v1/orders/x",
      headers: { authorization: "Bearer cs_live_nope_secretpart" },
    });
    expect(bad.statusCode).toBe(401);
    expect(String(bad.headers["x-request-id"])).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await app.inject({ url: "/v1/orders", headers: { "x-request-id": "bad id\u00e9" } });
    expect(String(hostile.headers["x-request-id"])).toMatch(/^[0-9a-f-]{36}$/);

    const metrics = await app.inject("/metrics");
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers["content-type"]).toContain("text/plain");
    expect(metrics.body).toContain(
      'clearsplit_http_requests_total{method="POST",route="/v1/orders",status="201"} 1',
    );
    expect(metrics.body).toMatch(
      /clearsplit_http_request_duration_seconds_bucket\{le="[0-9.]+",method="GET",route="\/v1\/orders\/:id",status="401"\}/,
    );
    expect(metrics.body).toMatch(/clearsplit_group_commit_batch_size_count \d+/);
    expect(metrics.body).toMatch(/clearsplit_log_sequencer_backlog \d+/);
    expect(metrics.body).toMatch(/clearsplit_event_sequencer_backlog \d+/);
    expect(metrics.body).toMatch(/clearsplit_notification_dispatcher_backlog\{channel="people"\} \d+/);
    expect(metrics.body).toMatch(/clearsplit_notification_dispatcher_backlog\{channel="webhooks"\} \d+/);
    expect(metrics.body).toMatch(/clearsplit_notification_queue_pending\{queue="webhook"\} \d+/);
    expect(metrics.body).toMatch(/clearsplit_db_pool_connections_max \d+/);
    await app.close();

    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      const entry = JSON.parse(line) as { reqId?: string };
      if (entry.reqId === undefined) continue;
      expect(line).not.toContain(key);
      expect(line).not.toContain("secretpart");
    }
    const requests = lines
      .map((line) => JSON.parse(line))
      .filter((e) => e.req !== undefined || e.res !== undefined);
    expect(requests.length).toBeGreaterThan(0);
    for (const entry of requests) expect(entry.reqId, JSON.stringify(entry)).toBeTypeOf("string");
    expect(requests.some((e) => e.reqId === "trace-abc.1")).toBe(true);
  });

  it.runIf(process.env.DATABASE_URL !== undefined)(
    "says not ready while the database refuses connections and ready again after, without a restart",
    async () => {
      const admin_url = process.env.DATABASE_URL!;
      const scratch = await createScratchDatabase(admin_url, "clearsplit_i_ready");
      const name = scratch.name;
      const admin = postgres(admin_url, { max: 1, onnotice: () => {} });
      const own = await openDatabase({ database_url: scratch.url });
      const app = await buildApp({ ctx: { db: own, now: () => new Date() } });
      try {
        expect((await app.inject("/readyz")).statusCode).toBe(200);
        // The database goes away for this server: no new connections, and its
        // existing backends terminated (only this test's own database).
        await admin.unsafe(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await admin.unsafe(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
        );
        for (let i = 0; i < 5; i++) {
          const down = await app.inject("/readyz");
          expect(down.statusCode).toBe(503);
          expect(down.headers["content-type"]).toContain("application/problem+json");
          const trial = await app.inject("/v1/ledger/trial-balance");
          expect(trial.statusCode).toBeLessThan(500);
        }
        await admin.unsafe(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
        let status = 0;
        for (let i = 0; i < 50 && status !== 200; i++) {
          status = (await app.inject("/readyz")).statusCode;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status, "ready again after the database came back").toBe(200);
      } finally {
        await app.close();
        await own.close();
        await admin.end({ timeout: 5 });
        await scratch.drop();
      }
    },
    // On a Citus coordinator the scratch database is a Citus database whose
    // first migrate shards every table: about 40 s of the 60 it had alone.
    180_000,
  );

  it.runIf(process.env.DATABASE_URL !== undefined)(
    "stops on SIGTERM within its bound: stops accepting, finishes what is in flight, exits 0",
    async () => {
      const cli = fileURLToPath(new URL("../../bin/clearsplit.mjs", import.meta.url));
      const admin_url = process.env.DATABASE_URL!;
      const scratch = await createScratchDatabase(admin_url, "clearsplit_i_term");
      const child = spawn(process.execPath, [cli, "serve", "--port", "0"], {
        env: { ...process.env, DATABASE_URL: scratch.url, CLEARSPLIT_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stderr.on("data", (chunk) => {
        err += chunk;
      });
      const base_url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk) => {
          out += chunk;
          const found = /listening on (http:\/\/\S+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
      });
      expect((await fetch(`${base_url}/readyz`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const started = Date.now();
      child.kill("SIGTERM");
      const code = await exited;
      expect(code, err).toBe(0);
      expect(err).toMatch(/SIGTERM: shutting down/);
      expect(err).toMatch(/stopped cleanly/);
      expect(Date.now() - started).toBeLessThan(20_000);
      await expect(fetch(`${base_url}/healthz`)).rejects.toThrow();
      await scratch.drop();
    },
    90_000,
  );
});
