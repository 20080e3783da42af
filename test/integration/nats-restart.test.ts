import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { AckPolicy, connect, DeliverPolicy } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createClearSplitClient } from "../../src/client/index.ts";
import { newId } from "../../src/core/ids.ts";
import { createApiKey } from "../../src/service/auth/api-keys.ts";
import type { ServiceContext } from "../../src/service/context.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open.ts";
import { openPostgres } from "../../src/store/postgres.ts";
import { newTestTenant } from "../../src/testing/db.ts";
import { seedExampleMarketplace } from "../../src/testing/marketplace.ts";

// A real `clearsplit serve` on PostgreSQL publishing to the machine's NATS
// JetStream, killed with SIGKILL right after a burst of bookings (so the
// publisher is mid-stream) and started again: a durable consumer then reads
// every event of the tenant once, in seq order, with no gap. PostgreSQL only:
// on the embedded database the server owns its directory, and the in-process
// publisher test covers PGlite.

const nats_url = process.env.CLEARSPLIT_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const root = resolve(import.meta.dirname, "../..");
const on_postgres = Boolean(process.env.DATABASE_URL);

// A database of its own: a server starting on the shared test database would
// unseal a log key for every tenant the other suites made, and publish them all.
const own_database = `clearsplit_natsrs_${newId().replaceAll("-", "").slice(-12)}`;
let admin: Database | null = null;
let database_url = "";
let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  if (!on_postgres) return;
  admin = await openPostgres(process.env.DATABASE_URL!, { connections_max: 1 });
  await admin.exec(`CREATE DATABASE ${own_database}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${own_database}`;
  database_url = url.toString();
  db = await openDatabase({ database_url, connections_max: 4 });
  ctx = { db, now: () => new Date() };
});
afterAll(async () => {
  if (!on_postgres) return;
  await db?.close();
  await admin?.exec(`DROP DATABASE IF EXISTS ${own_database} WITH (FORCE)`);
  await admin?.close();
});

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start:\n${output}`)), 120_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]!);
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => fail(new Error(`serve exited with ${code}:\n${output}`)));
  });
  return { child, url };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  await exited;
}

describe.skipIf(!on_postgres)("events on NATS across a server restart", () => {
  it("delivers every event of the tenant once, in order, after a SIGKILL mid-stream", async () => {
    const tenant = await newTestTenant(ctx, "natsrs");
    await seedExampleMarketplace(ctx, tenant);
    const { key } = await createApiKey(ctx, tenant, { name: "nats restart", role: "platform_admin" });
    const tag = newId().replaceAll("-", "").slice(-12);
    const env = {
      DATABASE_URL: database_url,
      CLEARSPLIT_NATS_URL: nats_url,
      CLEARSPLIT_NATS_STREAM: `CSRESTART_${tag}`,
      CLEARSPLIT_NATS_SUBJECT_PREFIX: `csrestart${tag}`,
      CLEARSPLIT_EVENTS_INTERVAL_MS: "50",
    };
    const nc = await connect({ servers: nats_url });
    let server = await startServer(env);
    try {
      const book = async (url: string, from: number, count: number) => {
        const client = createClearSplitClient({ baseUrl: url, apiKey: key });
        await Promise.all(
          Array.from({ length: count }, (_, i) =>
            client.orders.create({ ...issue_order, id: `NR-${from + i}` }),
          ),
        );
      };
      await book(server.url, 0, 30);
      await kill(server.child);
      server = await startServer(env);
      await book(server.url, 30, 30);

      // Every event of the tenant, as the database numbered them. Background
      // roles (the audit runner among them) may add events after the 60
      // bookings' own, so read until the count has stood still for a while.
      const deadline = Date.now() + 60_000;
      const quiet_ms = 2_000;
      const readExpected = async () =>
        (
          await db.query<{ id: string }>(
            "SELECT event_id::text AS id FROM event_seqs WHERE tenant_id = $1 ORDER BY seq",
            [tenant],
          )
        ).map((row) => row.id);
      let expected: string[] = [];
      let stable_since = Date.now();
      for (;;) {
        const now_read = await readExpected();
        if (now_read.length !== expected.length) stable_since = Date.now();
        expected = now_read;
        if (expected.length >= 60 && Date.now() - stable_since >= quiet_ms) break;
        if (Date.now() > deadline) break;
        await new Promise((done) => setTimeout(done, 200));
      }
      expect(expected.length).toBeGreaterThanOrEqual(60);

      const manager = await nc.jetstreamManager();
      for (;;) {
        try {
          await manager.consumers.add(env.CLEARSPLIT_NATS_STREAM, {
            durable_name: "restart-check",
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            filter_subject: `${env.CLEARSPLIT_NATS_SUBJECT_PREFIX}.${tenant}.>`,
          });
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((done) => setTimeout(done, 200));
        }
      }
      const consumer = await nc.jetstream().consumers.get(env.CLEARSPLIT_NATS_STREAM, "restart-check");
      const received: { id: string; seq: bigint }[] = [];
      while (received.length < expected.length && Date.now() < deadline) {
        const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
        for await (const message of batch) {
          const body = message.json<{ id: string; seq: number }>();
          received.push({ id: body.id, seq: BigInt(body.seq) });
          message.ack();
        }
      }
      // One more fetch must find nothing: no event was delivered twice.
      const extra = await consumer.fetch({ max_messages: 10, expires: 1_000 });
      for await (const message of extra) received.push(message.json());
      // Compare with the events as they stand now, so a late background event
      // counts as expected only if the database numbered it too.
      const final = await readExpected();
      if (final.length > expected.length && received.length === final.length) expected = final;
      expect(received.map((r) => r.id)).toEqual(expected);
      expect(received.map((r) => r.seq)).toEqual(expected.map((_, i) => BigInt(i + 1)));
    } finally {
      await kill(server.child);
      await (await nc.jetstreamManager()).streams.delete(env.CLEARSPLIT_NATS_STREAM).catch(() => undefined);
      await nc.close();
    }
  }, 300_000);
});
