import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { type ServerProcess, startServerProcess } from "../bench/server-process.ts";
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { checkLedgerIntegrity } from "../service/ledger/integrity.ts";
import { sequencerLockKey } from "../service/tlog/log-sequencer.ts";
import type { Database } from "../store/database.ts";
import { selectAutovacuumEnabled } from "../store/maintenance-sql.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase, type ScratchDatabase } from "../store/scratch-database.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { fromBase64Strict, verifyCheckpoint, verifyConsistency } from "../verify/index.ts";
import { autovacuum_off_warning } from "./serve.ts";

// Issue 20 item 1: several servers on one PostgreSQL. Two hosts share one
// database: host A is `serve --workers 2`, host B a plain `serve`. Clients
// book, complete and release orders through both, retrying each write with
// its Idempotency-Key until answered. The host seen holding the tenant's log
// sequencer lock (pg_locks, by the application_name each serve gives its
// connections) is SIGKILLed mid-load, workers and all; its clients move to
// the survivor. Then: every acknowledged order booked once and released once,
// every log record a leaf once with no gap, the checkpoint before the kill
// consistent with the last, the trial balance zero, and the survivor leads:
// it takes the sequencer lock and sequences what was written after the kill.

const database_url = process.env.DATABASE_URL;
const tenant = "workers";
const clients = 8;
/** The scheduler releases completed orders this long after completion (the other half are released through the API). */
const return_window_ms = 1_500;
/** Generous bounds for the background work to catch up: a deadline, not a speed assertion. */
const leadership_deadline_ms = 60_000;
const settle_deadline_ms = 120_000;
/** Orders the clients get acknowledged before the kill, and at least as many by the survivor alone after it. */
const orders_per_phase = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("clearsplit serve --workers on the PGlite default", () => {
  it("refuses --workers 2 with a clear message and a non-zero exit", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CLEARSPLIT_CONSOLE: "off", CLEARSPLIT_LOG: "0" };
    delete env.DATABASE_URL;
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "serve", "--workers", "2", "--port", "0"],
        { env, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
      child.once("exit", (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--workers needs PostgreSQL");
  }, 120_000);
});

describe.skipIf(database_url === undefined)(
  "several servers on one PostgreSQL (PostgreSQL only: skipped without DATABASE_URL)",
  () => {
    let scratch: ScratchDatabase;
    let url: string;
    let db: Database;
    const servers: ServerProcess[] = [];

    beforeAll(async () => {
      scratch = await createScratchDatabase(database_url!, "clearsplit_workers");
      url = scratch.url;
      db = await openDatabase({ database_url: url, connections_max: 2 });
    }, 120_000);
    afterAll(async () => {
      for (const server of servers) await server.kill().catch(() => undefined);
      await db?.close();
      await scratch?.drop();
    });

    /** The serve process (by pid in its application_name) holding the tenant's log sequencer lock now, if any. */
    async function sequencerHolder(): Promise<number | undefined> {
      const key = BigInt.asUintN(64, sequencerLockKey(tenant));
      const [row] = await db.query<{ application_name: string }>(
        `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.classid = $1::int8::oid AND l.objid = $2::int8::oid AND l.database =
                (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [key >> 32n, key & 0xffff_ffffn],
      );
      // The loops run on the roles thread, whose connections are named "clearsplit roles <pid>".
      const pid = /^clearsplit (?:serve|roles) (\d+)$/.exec(row?.application_name ?? "")?.[1];
      return pid === undefined ? undefined : Number(pid);
    }

    async function waitForHolder(among: Set<number>): Promise<number> {
      const deadline = Date.now() + leadership_deadline_ms;
      while (Date.now() < deadline) {
        const holder = await sequencerHolder();
        if (holder !== undefined && among.has(holder)) return holder;
        await sleep(5);
      }
      throw new Error(
        `no process among ${[...among].join(", ")} took the sequencer lock within ${leadership_deadline_ms} ms`,
      );
    }

    it("serve --workers 2 forks a worker again when one dies, and drains both on SIGTERM", async () => {
      const server = await startServerProcess(url, { workers: 2, env: { CLEARSPLIT_NOTIFICATIONS: "off" } });
      servers.push(server);
      const [first, second] = await server.pids();
      expect(second, "two workers").toBeDefined();
      process.kill(first!, "SIGKILL");
      // The primary forks another after its backoff; the port keeps answering meanwhile through the other.
      const deadline = Date.now() + leadership_deadline_ms;
      let pids = await server.pids();
      while (Date.now() < deadline && !(pids.length === 2 && !pids.includes(first!))) {
        await sleep(100);
        pids = await server.pids();
      }
      expect(pids, "a new worker replaced the dead one").toHaveLength(2);
      expect(pids).toContain(second);
      expect(pids).not.toContain(first);
      const ready = await fetch(`${server.base_url}/readyz`);
      expect(ready.status).toBe(200);
      // Said once, by the primary, exactly when this server will not vacuum on its own.
      const warnings = server.stderrTail().split(autovacuum_off_warning).length - 1;
      expect(warnings).toBe((await selectAutovacuumEnabled(db)) ? 0 : 1);
      expect(await server.stop(), "every worker drained, exit 0").toBe(0);
    }, 300_000);

    it("two hosts under load, the leader SIGKILLed: every order booked, released and sequenced once, the survivor leads", async () => {
      const ctx: ServiceContext = { db, now: () => new Date() };
      await ensureTenant(ctx, { id: tenant, name: "several servers" });
      await seedExampleMarketplace(ctx, tenant, return_window_ms);
      const writer = (await createApiKey(ctx, tenant, { name: "w", role: "platform_admin" })).key;

      const env = { CLEARSPLIT_NOTIFICATIONS: "off" };
      const [host_a, host_b] = await Promise.all([
        startServerProcess(url, { workers: 2, env }),
        startServerProcess(url, { env }),
      ]);
      servers.push(host_a, host_b);
      const hosts = [host_a, host_b];
      const pids = await Promise.all(hosts.map((host) => host.pids()));
      expect(pids[0]!.length, "host A runs two workers").toBe(2);
      const live = [...hosts];

      let running = true;
      const sent = new Set<string>();
      const acknowledged = new Set<string>();
      const released_by_api = new Set<string>();
      let retries = 0;

      /** Sends until a definite answer, moving to another live host when one does not answer. */
      async function call(client: number, method: string, path: string, key: string, body?: unknown) {
        for (let attempt = 0; ; attempt++) {
          const host = live[(client + attempt) % live.length]!;
          try {
            const response = await fetch(`${host.base_url}${path}`, {
              method,
              headers: {
                authorization: `Bearer ${writer}`,
                "idempotency-key": key,
                ...(body === undefined ? {} : { "content-type": "application/json" }),
              },
              body: body === undefined ? undefined : JSON.stringify(body),
              signal: AbortSignal.timeout(15_000),
            });
            const text = await response.text();
            if (response.status < 500) return { status: response.status, text };
          } catch {}
          retries++;
          await sleep(50);
        }
      }

      async function client(index: number): Promise<void> {
        for (let n = 0; running; n++) {
          const id = `w-${index}-${n}`;
          sent.add(id);
          const booked = await call(index, "POST", "/v1/orders", `order-${id}`, { ...issue_order, id });
          expect(booked.status, `order ${id}: ${booked.text}`).toBeLessThan(300);
          acknowledged.add(id);
          const completed = await call(index, "POST", `/v1/orders/${id}/complete`, `complete-${id}`);
          expect(completed.status, `complete ${id}: ${completed.text}`).toBe(200);
          if (n % 2 === 0) {
            const released = await call(index, "POST", `/v1/orders/${id}/release`, `release-${id}`);
            expect(released.status, `release ${id}: ${released.text}`).toBe(200);
            released_by_api.add(id);
          }
        }
      }

      async function checkpoint(host: ServerProcess): Promise<string> {
        const response = await fetch(`${host.base_url}/log/${tenant}/checkpoint`);
        expect(response.status).toBe(200);
        return response.text();
      }

      const load = [...Array(clients).keys()].map((i) => client(i));
      // Mid-load: once orders flow through both hosts, find the leader.
      while (acknowledged.size < orders_per_phase) await sleep(50);
      const holder = await waitForHolder(new Set(pids.flat()));
      const victim = pids[0]!.includes(holder) ? 0 : 1;
      const survivor = 1 - victim;
      const before_kill = await checkpoint(hosts[survivor]!);
      await hosts[victim]!.kill();
      live.splice(live.indexOf(hosts[victim]!), 1);
      const killed_at_ack = acknowledged.size;
      process.stdout.write(
        `workers: killed host ${victim === 0 ? "A (--workers 2)" : "B"} holding the sequencer lock ` +
          `(pid ${holder}) after ${killed_at_ack} orders\n`,
      );

      // Leadership moves: the survivor takes the lock and sequences what is written after the kill.
      const [after_kill] = await db.query<{ n: bigint }>(
        "SELECT count(*)::int8 AS n FROM log_records WHERE tenant_id = $1",
        [tenant],
      );
      await waitForHolder(new Set(pids[survivor]));
      const lead_deadline = Date.now() + leadership_deadline_ms;
      let sequenced = 0n;
      while (Date.now() < lead_deadline) {
        const [row] = await db.query<{ size: bigint | null }>(
          "SELECT max(size) AS size FROM log_checkpoints WHERE tenant_id = $1",
          [tenant],
        );
        sequenced = row?.size ?? 0n;
        if (sequenced >= after_kill!.n && acknowledged.size >= killed_at_ack + orders_per_phase) break;
        await sleep(100);
      }
      expect(
        sequenced,
        "the survivor sequenced the records written before and after the kill",
      ).toBeGreaterThanOrEqual(after_kill!.n);
      expect(acknowledged.size, "the survivor takes the load").toBeGreaterThanOrEqual(
        killed_at_ack + orders_per_phase,
      );
      running = false;
      await Promise.all(load);

      // Background work catches up on the survivor: releases past their window, leaves, event seqs.
      const deadline = Date.now() + settle_deadline_ms;
      let pending = { unreleased: -1n, unsequenced: -1n, unstamped: -1n };
      while (Date.now() < deadline) {
        const [row] = await db.query<typeof pending>(
          `SELECT (SELECT count(*) FROM orders WHERE tenant_id = $1 AND released_at IS NULL)::int8 AS unreleased,
                  (SELECT count(*) FROM log_records r WHERE r.tenant_id = $1
                     AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.tenant_id = r.tenant_id AND l.record_id = r.id))::int8 AS unsequenced,
                  (SELECT count(*) FROM events e WHERE e.tenant_id = $1
                     AND NOT EXISTS (SELECT 1 FROM event_seqs s WHERE s.tenant_id = e.tenant_id AND s.event_id = e.id))::int8 AS unstamped`,
          [tenant],
        );
        pending = row!;
        if (Object.values(pending).every((count) => count === 0n)) break;
        await sleep(250);
      }
      expect(pending, "the survivor released, sequenced and stamped everything").toEqual({
        unreleased: 0n,
        unsequenced: 0n,
        unstamped: 0n,
      });

      // Every acknowledged order once; nothing invented; booked once, released once.
      const orders = await db.query<{ id: string }>("SELECT id FROM orders WHERE tenant_id = $1", [tenant]);
      const stored = orders.map((row) => row.id);
      expect(new Set(stored).size, "no order twice").toBe(stored.length);
      for (const id of acknowledged) expect(stored, `acknowledged ${id}`).toContain(id);
      for (const id of stored) expect(sent.has(id), `invented ${id}`).toBe(true);
      const postings = await db.query<{ kind: string; orders: bigint; transactions: bigint }>(
        `SELECT kind, count(DISTINCT order_id)::int8 AS orders, count(*)::int8 AS transactions
           FROM journal_transactions WHERE tenant_id = $1 AND kind IN ('split', 'release') GROUP BY kind ORDER BY kind`,
        [tenant],
      );
      const total = BigInt(stored.length);
      expect(postings, "one booking and one release per order").toEqual([
        { kind: "release", orders: total, transactions: total },
        { kind: "split", orders: total, transactions: total },
      ]);

      // The log: each record a leaf once, indexes 0..n-1 without a gap.
      const [log] = await db.query<{
        records: bigint;
        leaves: bigint;
        distinct_records: bigint;
        top: bigint | null;
      }>(
        `SELECT (SELECT count(*) FROM log_records WHERE tenant_id = $1)::int8 AS records,
                count(*)::int8 AS leaves, count(DISTINCT record_id)::int8 AS distinct_records,
                max(leaf_index) AS top
           FROM log_leaves WHERE tenant_id = $1`,
        [tenant],
      );
      expect(log!.leaves, "a leaf per record").toBe(log!.records);
      expect(log!.distinct_records, "no record twice").toBe(log!.leaves);
      expect(log!.top, "no gap in leaf indexes").toBe(log!.leaves - 1n);

      // The checkpoint taken before the kill is a prefix of the last one.
      const host = hosts[survivor]!;
      const final_note = await checkpoint(host);
      const vkey = (await (await fetch(`${host.base_url}/log/${tenant}/vkey`)).text()).trim();
      const older = await verifyCheckpoint(before_kill, [vkey]);
      const newer = await verifyCheckpoint(final_note, [vkey]);
      expect(newer.size, "the final checkpoint covers every record").toBe(log!.records);
      if (older.size > 0n) {
        const response = await fetch(
          `${host.base_url}/v1/log/consistency?from=${older.size}&to=${newer.size}`,
          {
            headers: { authorization: `Bearer ${writer}` },
          },
        );
        expect(response.status).toBe(200);
        const proof = ((await response.json()) as { proof: string[] }).proof.map((p) => fromBase64Strict(p)!);
        expect(
          await verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash),
          `checkpoint ${older.size} → ${newer.size}`,
        ).toBe(true);
      }

      // The ledger holds: trial balance zero, balances equal their postings.
      expect((await checkLedgerIntegrity(db, tenant)).findings).toEqual([]);
      process.stdout.write(
        `workers: ${acknowledged.size} orders acknowledged (${sent.size} sent), ${released_by_api.size} released ` +
          `through the API, ${retries} retries, log size ${newer.size}\n`,
      );
      await host.stop();
    }, 600_000);
  },
);
