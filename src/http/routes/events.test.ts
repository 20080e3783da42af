import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventType } from "../../core/event-catalogue.ts";
import type { ServiceContext } from "../../service/context.ts";
import { enqueueEvents } from "../../service/events/event-enqueue.ts";
import { sequenceEventsOnce, startEventSequencer } from "../../service/events/event-sequencer.ts";
import type { Database } from "../../store/database.ts";
import { bookFixtureOrder, type TenantFixture, tenantFixture } from "../../testing/auth-fixtures.ts";
import { openTestDatabase } from "../../testing/db.ts";
import { buildApp } from "../app.ts";

interface Frame {
  id?: string;
  event?: string;
  data?: { seq: number; type: string; payload: { order_id: string; merchant_id: string } };
  comment?: string;
}

/** An SSE client that records every frame; `until` waits for a condition on them. */
class Listener {
  frames: Frame[] = [];
  response: IncomingMessage | null = null;
  closed = false;
  status = 0;
  private buffer = "";
  private waiters: (() => void)[] = [];

  constructor(port: number, key: string, last_event_id?: string, paused = false) {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (last_event_id !== undefined) headers["last-event-id"] = last_event_id;
    const req = httpRequest({ port, path: "/v1/events/stream", headers }, (response) => {
      this.response = response;
      this.status = response.statusCode ?? 0;
      if (paused) response.pause();
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => this.push(chunk));
      response.on("close", () => {
        this.closed = true;
        this.notify();
      });
      this.notify();
    });
    // The socket's close is seen even when the response is paused and unread.
    req.on("socket", (socket) =>
      socket.on("close", () => {
        this.closed = true;
        this.notify();
      }),
    );
    req.on("error", () => {
      this.closed = true;
      this.notify();
    });
    req.end();
  }

  private push(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: Frame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) frame.comment = line.slice(1).trim();
        else if (line.startsWith("id: ")) frame.id = line.slice(4);
        else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("data: ")) frame.data = JSON.parse(line.slice(6));
      }
      this.frames.push(frame);
      end = this.buffer.indexOf("\n\n");
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  get events(): NonNullable<Frame["data"]>[] {
    return this.frames.flatMap((frame) => (frame.data ? [frame.data] : []));
  }

  async until(condition: () => boolean, timeout_ms = 10_000): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out; have ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.response?.destroy();
  }
}

let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => db.close());

async function listen(env: Record<string, string>): Promise<{ app: FastifyInstance; port: number }> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    const app = await buildApp({ ctx });
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { app, port: (app.server.address() as AddressInfo).port };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function clearingOf(fixture: TenantFixture): Promise<string> {
  const rows = await db.query<{ id: string }>(
    "SELECT id::text FROM accounts WHERE tenant_id = $1 AND party_id = $2 AND purpose = 'clearing'",
    [fixture.tenant_id, fixture.platform_id],
  );
  return rows[0]!.id;
}

describe("GET /v1/events/stream", () => {
  it("gives each merchant exactly its own events in order, and no gap after a forced reconnect with Last-Event-ID", async () => {
    const { app, port } = await listen({ CLEARSPLIT_SSE_POLL_MS: "20", CLEARSPLIT_SSE_HEARTBEAT_MS: "300" });
    const sequencer = startEventSequencer(ctx, { interval_ms: 20 });
    const fixture = await tenantFixture(ctx);
    const clearing = await clearingOf(fixture);
    const a = new Listener(port, fixture.keys.merchant, "0");
    const b_key = (
      await import("../../service/auth/api-keys.ts").then((module) =>
        module.createApiKey(ctx, fixture.tenant_id, {
          name: "b",
          role: "merchant",
          party_id: fixture.merchant_b.party_id,
        }),
      )
    ).key;
    const b = new Listener(port, b_key, "0");
    const platform = new Listener(port, fixture.keys.auditor, "0");
    await a.until(() => a.events.length === 1);
    await b.until(() => b.events.length === 1);
    for (let round = 0; round < 3; round++) {
      await bookFixtureOrder(ctx, fixture.tenant_id, clearing, fixture.merchant_a, fixture.supplier_a);
      await bookFixtureOrder(ctx, fixture.tenant_id, clearing, fixture.merchant_b);
    }
    await a.until(() => a.events.length === 4);
    // Forced reconnect: drop A, book while it is away, resume after the last id it saw.
    const last_seen = a.frames.filter((frame) => frame.id).at(-1)!.id!;
    a.close();
    await bookFixtureOrder(ctx, fixture.tenant_id, clearing, fixture.merchant_a);
    await bookFixtureOrder(ctx, fixture.tenant_id, clearing, fixture.merchant_b);
    const a_again = new Listener(port, fixture.keys.merchant, last_seen);
    await a_again.until(() => a_again.events.length === 1);
    await b.until(() => b.events.length === 5);
    await platform.until(() => platform.events.length === 10);

    const seen_by_a = [...a.events, ...a_again.events];
    expect(seen_by_a.map((event) => event.payload.order_id)).toEqual(fixture.merchant_a.order_ids);
    expect(b.events.map((event) => event.payload.order_id)).toEqual(fixture.merchant_b.order_ids);
    for (const list of [seen_by_a, b.events, platform.events]) {
      const seqs = list.map((event) => event.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // The platform sees every event, with no gap in seq.
    const all = platform.events.map((event) => event.seq);
    expect(all).toEqual(Array.from({ length: all.length }, (_, index) => all[0]! + index));
    expect(a.frames.every((frame) => frame.id === undefined || frame.id === String(frame.data?.seq))).toBe(
      true,
    );
    // Heartbeats keep an idle stream alive.
    await b.until(() => b.frames.some((frame) => frame.comment === "heartbeat"), 3_000);
    for (const listener of [a_again, b, platform]) listener.close();
    await sequencer.stop();
    await app.close();
  });

  it("drops a client that does not read, and bounds the number of streams", async () => {
    const { app, port } = await listen({
      CLEARSPLIT_SSE_POLL_MS: "20",
      CLEARSPLIT_SSE_BUFFER_MAX_BYTES: "65536",
      CLEARSPLIT_SSE_DRAIN_TIMEOUT_MS: "300",
      CLEARSPLIT_SSE_CONNECTIONS_MAX: "2",
    });
    const fixture = await tenantFixture(ctx);
    await sequenceEventsOnce(ctx);
    const slow = new Listener(port, fixture.keys.auditor, "0", true);
    await slow.until(() => slow.status !== 0);
    const fast = new Listener(port, fixture.keys.merchant, "0");
    await fast.until(() => fast.events.length === 1);
    const third = new Listener(port, fixture.keys.finance, "0");
    await third.until(() => third.status !== 0);
    expect(third.status).toBe(503);
    // ~20 MB of events only the platform may see: the slow client's buffer cannot drain.
    const blob = "x".repeat(64 * 1024);
    for (let batch = 0; batch < 5; batch++) {
      await db.transaction((tx) =>
        enqueueEvents(
          tx,
          fixture.tenant_id,
          Array.from({ length: 60 }, () => ({
            type: "balance.changed" as EventType,
            party_ids: [],
            payload: { blob },
          })),
          new Date(),
        ),
      );
    }
    await sequenceEventsOnce(ctx);
    // The server drops the slow stream, which frees its slot: a new stream is admitted.
    let admitted: Listener | null = null;
    const deadline = Date.now() + 20_000;
    while (admitted === null && Date.now() < deadline) {
      const candidate = new Listener(port, fixture.keys.finance, "0");
      await candidate.until(() => candidate.status !== 0);
      if (candidate.status === 200) admitted = candidate;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(admitted).not.toBeNull();
    // Reading now, the slow client finds its stream cut short: never all 302 events.
    slow.response!.resume();
    await slow.until(() => slow.closed, 20_000);
    expect(slow.events.length).toBeLessThan(302);
    // The merchant saw none of those platform-only events and is still connected.
    expect(fast.closed).toBe(false);
    expect(fast.events).toHaveLength(1);
    const fourth = admitted!;
    fast.close();
    fourth.close();
    await app.close();
  }, 60_000);
});
