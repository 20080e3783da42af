import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { checkLedgerIntegrity } from "../service/ledger/integrity.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase, type ScratchDatabase } from "../store/scratch-database.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import {
  fromBase64Strict,
  parseCheckpoint,
  parseNote,
  verifyCheckpoint,
  verifyConsistency,
} from "../verify/index.ts";
import { type ServerProcess, startServerProcess } from "./server-process.ts";

// The crash test (`npm run test:crash`, CRASH_KILLS=20): `clearsplit serve`
// on PostgreSQL under concurrent clients that retry every write with the same
// Idempotency-Key until it is acknowledged, killed with SIGKILL at random
// moments and restarted. Then: every acknowledged order exists exactly once
// and none was invented; the trial balance is zero and every balance equals
// its postings; every checkpoint served during the run is signed and
// consistent with the next; `clearsplit verify db` passes; and the scheduler
// and sequencers picked up where they stopped. Runs only when CRASH_KILLS is
// set and DATABASE_URL names a PostgreSQL server (the test creates and drops
// its own database there).

const kills = Number(process.env.CRASH_KILLS ?? 0);
const database_url = process.env.DATABASE_URL;
const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const clients = 8;
const return_window_ms = 1_500;
const cli_path = fileURLToPath(new URL("../../bin/clearsplit.mjs", import.meta.url));

/** Small seeded generator (mulberry32): the kill moments and client choices replay from CRASH_SEED. */
function random(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let scratch: ScratchDatabase;
let crash_url: string;
let db: Database;

describe.runIf(kills > 0 && database_url !== undefined)("crash test: SIGKILL under load", () => {
  beforeAll(async () => {
    scratch = await createScratchDatabase(database_url!, "clearsplit_i_crash");
    crash_url = scratch.url;
    db = await openDatabase({ database_url: crash_url });
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it(`survives ${kills} SIGKILLs with nothing lost, duplicated or invented`, async () => {
    process.stdout.write(`crash: ${kills} kills, CRASH_SEED=${seed}\n`);
    const rand = random(seed);
    const ctx: ServiceContext = { db, now: () => new Date() };
    const tenant = "crash";
    await ensureTenant(ctx, { id: tenant, name: "crash test" });
    // Same-day payouts, so the settlement runs under the kills move money.
    await seedExampleMarketplace(ctx, tenant, return_window_ms, { cycle_days: 0 });
    const writer = (await createApiKey(ctx, tenant, { name: "w", role: "platform_admin" })).key;

    let server: ServerProcess = await startServerProcess(crash_url);
    let base_url = server.base_url;
    let running = true;
    const sent = new Set<string>();
    const acknowledged = new Set<string>();
    const completed = new Set<string>();
    const refunded = new Set<string>();
    const checkpoints = new Map<string, string>();
    let retries = 0;

    /** Sends until the server gives a definite answer; a dead or closing server means "try again". */
    async function call(method: string, path: string, key: string, body?: unknown): Promise<number> {
      for (;;) {
        try {
          const response = await fetch(`${base_url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${writer}`,
              "idempotency-key": key,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
          await response.text();
          if (response.status < 500) return response.status;
        } catch {}
        retries++;
        await sleep(50);
      }
    }

    async function client(index: number): Promise<void> {
      const choose = random(seed + index + 1);
      for (let n = 0; running; n++) {
        const id = `crash-${index}-${n}`;
        sent.add(id);
        const status = await call("POST", "/v1/orders", `order-${id}`, { ...issue_order, id });
        expect(status, `order ${id}`).toBeLessThan(300);
        acknowledged.add(id);
        const roll = choose();
        if (roll < 0.3) {
          expect(await call("POST", `/v1/orders/${id}/complete`, `complete-${id}`)).toBe(200);
          completed.add(id);
        } else if (roll < 0.4) {
          const refund = { refund_id: `r-${id}`, amount_minor: 100 };
          expect(await call("POST", `/v1/orders/${id}/refunds`, `refund-${id}`, refund)).toBeLessThan(300);
          refunded.add(id);
        }
      }
    }

    async function watchCheckpoints(): Promise<void> {
      while (running) {
        try {
          const response = await fetch(`${base_url}/log/${tenant}/checkpoint`, {
            signal: AbortSignal.timeout(5_000),
          });
          if (response.ok) {
            const note = await response.text();
            checkpoints.set(note.split("\n").slice(0, 3).join("\n"), note);
          }
        } catch {}
        await sleep(200);
      }
    }

    // Finance asks for a settlement run now and then, each retried with its own
    // key until answered: a run killed between two parties is finished by the
    // retry, which pays the rest and replays the paid (the payout's cycle key).
    let settlement_runs = 0;
    async function settler(): Promise<void> {
      for (let n = 0; running; n++) {
        await sleep(1_000);
        const status = await call("POST", "/v1/settlements/runs", `settle-${seed}-${n}`, {});
        expect(status, `settlement run ${n}`).toBeLessThan(300);
        settlement_runs++;
      }
    }

    const workers = [...[...Array(clients).keys()].map((i) => client(i)), settler()];
    const watcher = watchCheckpoints();
    for (let k = 0; k < kills; k++) {
      // A kill under load: once the new server has acknowledged work, at a
      // random moment within the next second and a half.
      const before = acknowledged.size;
      const wait_until = Date.now() + 60_000;
      while (acknowledged.size === before && Date.now() < wait_until) await sleep(20);
      await sleep(Math.floor(rand() * 1_500));
      await server.kill();
      server = await startServerProcess(crash_url);
      base_url = server.base_url;
      process.stdout.write(`crash: kill ${k + 1}/${kills}: ${acknowledged.size} orders acknowledged\n`);
    }
    await sleep(1_000);
    running = false;
    await Promise.all(workers);
    await watcher;

    // The scheduler and sequencers resume after the last restart: completed
    // orders past their window get released, every record gets a leaf. The
    // dispatcher's cursors reach the last sequenced event; no settlement run is
    // left unfinished unless a later one finished, and today's scheduled run finished.
    const deadline = Date.now() + 60_000;
    let pending = {
      unreleased: -1n,
      unsequenced: -1n,
      unstamped: -1n,
      undispatched: -1n,
      runs_unfinished: -1n,
      scheduled_unfinished: -1n,
    };
    while (Date.now() < deadline) {
      const [row] = await db.query<typeof pending>(
        `SELECT (SELECT count(*) FROM orders WHERE tenant_id = $1 AND released_at IS NULL AND releasable_at < now())::int8 AS unreleased,
                (SELECT count(*) FROM log_records r WHERE r.tenant_id = $1
                   AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.tenant_id = r.tenant_id AND l.record_id = r.id))::int8 AS unsequenced,
                (SELECT count(*) FROM events e WHERE e.tenant_id = $1
                   AND NOT EXISTS (SELECT 1 FROM event_seqs s WHERE s.tenant_id = e.tenant_id AND s.event_id = e.id))::int8 AS unstamped,
                (SELECT count(*) FROM (VALUES ('people'), ('webhooks')) AS c(channel)
                  WHERE coalesce((SELECT last_seq FROM notification_cursors n WHERE n.tenant_id = $1 AND n.channel = c.channel), 0)
                        < coalesce((SELECT max(seq) FROM event_seqs WHERE tenant_id = $1), 0))::int8 AS undispatched,
                (SELECT count(*) FROM settlement_runs r WHERE r.tenant_id = $1 AND r.status <> 'finished'
                   AND NOT EXISTS (SELECT 1 FROM settlement_runs f WHERE f.tenant_id = r.tenant_id
                                      AND f.status = 'finished' AND f.created_at > r.created_at))::int8 AS runs_unfinished,
                (SELECT count(*) FROM (VALUES (1)) AS one
                  WHERE NOT EXISTS (SELECT 1 FROM settlement_runs WHERE tenant_id = $1 AND trigger = 'scheduler'
                                       AND status = 'finished' AND run_date = (now() AT TIME ZONE 'UTC')::date))::int8
                  AS scheduled_unfinished`,
        [tenant],
      );
      pending = row!;
      if (Object.values(pending).every((count) => count === 0n)) break;
      await sleep(500);
    }
    const response = await fetch(`${base_url}/log/${tenant}/checkpoint`);
    const final_note = await response.text();
    checkpoints.set(final_note.split("\n").slice(0, 3).join("\n"), final_note);
    expect(pending, "scheduler, sequencers, dispatcher and settlement resumed").toEqual({
      unreleased: 0n,
      unsequenced: 0n,
      unstamped: 0n,
      undispatched: 0n,
      runs_unfinished: 0n,
      scheduled_unfinished: 0n,
    });
    expect(settlement_runs, "settlement runs answered").toBeGreaterThan(0);
    const [paid_twice] = await db.query<{ n: bigint }>(
      `SELECT count(*)::int8 AS n FROM (SELECT 1 FROM payouts WHERE tenant_id = $1
         GROUP BY party_id, currency, cycle_key HAVING count(*) > 1) AS twice`,
      [tenant],
    );
    expect(paid_twice!.n, "no party paid twice for one cycle").toBe(0n);
    const [settled] = await db.query<{ runs: bigint; payouts: bigint }>(
      `SELECT (SELECT count(*) FROM settlement_runs WHERE tenant_id = $1)::int8 AS runs,
              (SELECT count(*) FROM payouts WHERE tenant_id = $1)::int8 AS payouts`,
      [tenant],
    );

    // Every acknowledged order exactly once; nothing that was never sent.
    const orders = await db.query<{ id: string }>("SELECT id FROM orders WHERE tenant_id = $1", [tenant]);
    const stored = orders.map((row) => row.id);
    expect(new Set(stored).size, "no order twice").toBe(stored.length);
    for (const id of acknowledged) expect(stored, `acknowledged ${id}`).toContain(id);
    for (const id of stored) expect(sent.has(id), `invented ${id}`).toBe(true);
    const bookings = await db.query<{ order_id: string; n: bigint }>(
      `SELECT order_id, count(*)::int8 AS n FROM journal_transactions
        WHERE tenant_id = $1 AND kind = 'split' GROUP BY order_id HAVING count(*) > 1`,
      [tenant],
    );
    expect(bookings, "one booking per order").toEqual([]);
    const [refund_count] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM order_refunds WHERE tenant_id = $1",
      [tenant],
    );
    expect(refund_count!.n, "each acknowledged refund once").toBe(BigInt(refunded.size));

    // The ledger holds.
    const ledger = await checkLedgerIntegrity(db, tenant);
    expect(ledger.findings).toEqual([]);

    // Every checkpoint served is signed, and each is consistent with the next.
    const vkey = await (await fetch(`${base_url}/log/${tenant}/vkey`)).text();
    const served = await Promise.all(
      [...checkpoints.values()].map(async (note) => ({
        note,
        checkpoint: await verifyCheckpoint(note, [vkey.trim()]),
      })),
    );
    served.sort((x, y) =>
      x.checkpoint.size < y.checkpoint.size ? -1 : x.checkpoint.size > y.checkpoint.size ? 1 : 0,
    );
    for (let i = 1; i < served.length; i++) {
      const older = served[i - 1]!.checkpoint;
      const newer = served[i]!.checkpoint;
      expect(newer.size, "two different roots for one size").not.toBe(older.size);
      const proof_response = await fetch(
        `${base_url}/v1/log/consistency?from=${older.size}&to=${newer.size}`,
        {
          headers: { authorization: `Bearer ${writer}` },
        },
      );
      expect(proof_response.status).toBe(200);
      const proof = ((await proof_response.json()) as { proof: string[] }).proof.map(
        (p) => fromBase64Strict(p)!,
      );
      const consistent =
        older.size === 0n ||
        (await verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash));
      expect(consistent, `checkpoint ${older.size} → ${newer.size}`).toBe(true);
    }
    expect(parseCheckpoint(parseNote(final_note).text).size).toBeGreaterThan(0n);
    await server.stop();

    // The CLI's tamper audit, as an operator runs it.
    const verify = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [cli_path, "verify", "db", "--tenant", tenant, "--grace-seconds", "0"],
        {
          env: { ...process.env, DATABASE_URL: crash_url },
        },
      );
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
      });
      child.stderr.on("data", (chunk) => {
        out += chunk;
      });
      child.on("exit", (code) => resolve({ code, out }));
    });
    expect(verify.code, verify.out).toBe(0);
    process.stdout.write(
      `crash: ${kills} kills survived; ${acknowledged.size} orders acknowledged (${sent.size} sent), ` +
        `${completed.size} completed, ${refunded.size} refunded, ${settlement_runs} settlement runs asked ` +
        `(${settled!.runs} started, ${settled!.payouts} payouts), ${retries} retries, ` +
        `${served.length} checkpoints consistent, verify db OK\n`,
    );
  }, 1_800_000);
});
