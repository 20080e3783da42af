import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, connect, DeliverPolicy, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "./event-enqueue.ts";
import { sequenceEventsOnce } from "./event-sequencer.ts";
import { natsSubject, startNatsPublisher } from "./nats-publisher.ts";

// Runs against real NATS servers with JetStream: the one this machine runs on
// 127.0.0.1:4222, and a private nats-server the test starts and stops to show
// that events wait while NATS is down and flow again when it is back.

const shared_nats_url = process.env.CLEARSPLIT_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const nats_server_binary = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => db.close());

/** A stream and subject prefix of this test alone, so runs never share subjects. */
function uniqueNames(): { stream: string; prefix: string } {
  const tag = newId().replaceAll("-", "").slice(-16);
  return { stream: `CSTEST_${tag}`, prefix: `cstest${tag}` };
}

async function writeEvents(tenant_id: string, count: number, label: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.transaction((tx) =>
      enqueueEvents(
        tx,
        tenant_id,
        [{ type: i % 2 === 0 ? "order.booked" : "order.refunded", party_ids: [], payload: { label, i } }],
        new Date(),
      ),
    );
  }
}

/** Sequences until `count` events are numbered; returns every event id in seq order. */
async function sequenceAll(tenant_id: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await sequenceEventsOnce(ctx);
    const rows = await db.query<{ id: string }>(
      "SELECT event_id::text AS id FROM event_seqs WHERE tenant_id = $1 ORDER BY seq",
      [tenant_id],
    );
    if (rows.length >= count) return rows.map((row) => row.id);
    if (Date.now() > deadline) throw new Error("events were not sequenced in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Received {
  id: string;
  seq: bigint;
  subject: string;
  msg_id: string | undefined;
}

/** Drains a durable pull consumer until `count` messages arrived or the deadline passed. */
async function consume(
  nc: NatsConnection,
  stream: string,
  durable: string,
  count: number,
  filter_subject: string,
): Promise<Received[]> {
  const manager = await nc.jetstreamManager();
  const deadline = Date.now() + 15_000;
  // The publisher creates the stream when it first reaches NATS.
  for (;;) {
    try {
      await manager.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // The publisher sends every tenant of the shared test database; read this test's own.
        filter_subject,
      });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  const received: Received[] = [];
  // Past `count`, one more fetch must come back empty: nothing extra is in the stream.
  while ((received.length < count && Date.now() < deadline) || received.length === count) {
    const before = received.length;
    const batch = await consumer.fetch({ max_messages: 200, expires: 1_000 });
    for await (const message of batch) {
      const body = message.json<{ id: string; seq: string | number }>();
      received.push({
        id: body.id,
        seq: BigInt(body.seq),
        subject: message.subject,
        msg_id: message.headers?.get("Nats-Msg-Id"),
      });
      message.ack();
    }
    if (before === count) break;
  }
  return received;
}

function expectContiguous(received: Received[], ids: string[]): void {
  expect(received.map((r) => r.id)).toEqual(ids);
  expect(received.map((r) => r.seq)).toEqual(ids.map((_, i) => BigInt(i + 1)));
  for (const r of received) expect(r.msg_id).toBe(r.id);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function startNatsServer(port: number, store_dir: string): Promise<ChildProcess> {
  const child = spawn(nats_server_binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store_dir], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, timeout: 500 });
      await nc.jetstreamManager();
      await nc.close();
      return child;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("NATS JetStream publisher", () => {
  it("names subjects clearsplit.<tenant>.<type> and neutralises NATS wildcards in a type", () => {
    expect(natsSubject("acme", "order.booked")).toBe("clearsplit.acme.order.booked");
    expect(natsSubject("acme", "weird type*>")).toBe("clearsplit.acme.weird_type__");
    expect(natsSubject("acme", "a..b", "x")).toBe("x.acme.a._.b");
  });

  // Proves the stream carries every event once, in seq order, across a restart
  // of the publisher between two runs of writes, and after a lost cursor.
  it("publishes every event in commit order with no gap across a restart, de-duplicated by event id", async () => {
    const tenant = await newTestTenant(ctx, "nats");
    const { stream, prefix } = uniqueNames();
    const nc = await connect({ servers: shared_nats_url });
    try {
      await writeEvents(tenant, 25, "before restart");
      const first = await sequenceAll(tenant, 25);
      const publisher = startNatsPublisher(ctx, {
        url: shared_nats_url,
        stream,
        subject_prefix: prefix,
        interval_ms: 50,
      });
      await publisher.flush();
      await publisher.stop();

      await writeEvents(tenant, 25, "after restart");
      const all = await sequenceAll(tenant, 50);
      // A crash after the acks but before the cursor's commit: the cursor is
      // lost, so the next process re-sends everything; JetStream drops the copies.
      await db.query("DELETE FROM event_consumer_cursors WHERE tenant_id = $1", [tenant]);
      const restarted = startNatsPublisher(ctx, {
        url: shared_nats_url,
        stream,
        subject_prefix: prefix,
        interval_ms: 50,
      });
      await restarted.flush();
      await restarted.stop();

      const received = await consume(nc, stream, "test", all.length, `${prefix}.${tenant}.>`);
      expect(all.slice(0, first.length)).toEqual(first);
      expectContiguous(received, all);
      expect(received[0]!.subject).toBe(`${prefix}.${tenant}.order.booked`);
      expect(received[1]!.subject).toBe(`${prefix}.${tenant}.order.refunded`);
    } finally {
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });

  // Proves booking never depends on NATS: events wait in the database while
  // the server is down, and the publisher catches up when it is back.
  it("survives NATS being down and catches up when it returns", async () => {
    const tenant = await newTestTenant(ctx, "nats");
    const { stream, prefix } = uniqueNames();
    const port = await freePort();
    const store_dir = mkdtempSync(join(tmpdir(), "clearsplit-nats-"));
    const url = `nats://127.0.0.1:${port}`;
    const errors: unknown[] = [];
    const publisher = startNatsPublisher(ctx, {
      url,
      stream,
      subject_prefix: prefix,
      interval_ms: 50,
      on_error: (error) => errors.push(error),
    });
    let server: ChildProcess | null = null;
    try {
      await writeEvents(tenant, 10, "while down");
      await sequenceAll(tenant, 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(errors.length).toBeGreaterThan(0);
      const [cursor] = await db.query<{ n: bigint }>(
        "SELECT count(*)::int8 AS n FROM event_consumer_cursors WHERE tenant_id = $1",
        [tenant],
      );
      expect(BigInt(cursor!.n)).toBe(0n);

      server = await startNatsServer(port, store_dir);
      await writeEvents(tenant, 10, "after return");
      const all = await sequenceAll(tenant, 20);
      const nc = await connect({ servers: url });
      try {
        const received = await consume(nc, stream, "catch-up", all.length, `${prefix}.${tenant}.>`);
        expectContiguous(received, all);
      } finally {
        await nc.close();
      }
    } finally {
      await publisher.stop();
      server?.kill("SIGKILL");
      rmSync(store_dir, { recursive: true, force: true });
    }
  });
});
