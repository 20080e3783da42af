import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { databaseTileFetcher, latestCheckpoint } from "../../store/log-tree-sql.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { hashLeaf, MemoryTiledLog, rootFromTiles } from "../../tlog/index.ts";
import { verifyBundle, verifyCheckpoint, verifyConsistency } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { createPolicyDraft, publishPolicy } from "../policies.ts";
import { auditLog } from "./log-audit.ts";
import { checkpointLagMs, leafInputOf, sequenceOnce } from "./log-sequencer.ts";
import { consistencyProof, proofBundle } from "./proofs.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, logFixture, saleRequest, sequenceAll, sequenceExpecting } from "./testing.ts";

let db: Database;
let ctx: ServiceContext;
const clock = testClock();
const keys = new LogKeyStore({ host: "ledger.test", secret: "sequencer-test-secret" });

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: clock.now };
});
afterAll(async () => db.close());

async function leafOrder(tenant: string): Promise<Map<string, bigint | null>> {
  const rows = await db.query<{ id: string; leaf_index: bigint | null }>(
    `SELECT r.id::text, l.leaf_index FROM log_records r
       LEFT JOIN log_leaves l ON l.tenant_id = r.tenant_id AND l.record_id = r.id
      WHERE r.tenant_id = $1`,
    [tenant],
  );
  return new Map(rows.map((row) => [row.id, row.leaf_index === null ? null : BigInt(row.leaf_index)]));
}

describe("sequencer", () => {
  // Proves rounds assign consecutive indexes in commit order, sign checkpoints
  // that verify with the standalone verifier, and stay consistent with each other.
  it("sequences committed records into signed, mutually consistent checkpoints", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const cache = new Map();
    const empty = await sequenceOnce(ctx, tenant, { keys, cache });
    expect(empty).toMatchObject({ status: "checkpointed", size: 0n, appended: 0 });
    expect(await sequenceOnce(ctx, tenant, { keys, cache })).toEqual({ status: "idle", size: 0n });

    const first = await bookSales(ctx, f, [
      { key: "a", merchant: "m1", amount_minor: 1000n },
      { key: "b", merchant: "m2", amount_minor: 2000n },
    ]);
    clock.advance(1500);
    expect(await checkpointLagMs(db, tenant, clock.now())).toBe(1500);
    const second = await bookSales(
      ctx,
      f,
      Array.from({ length: 600 }, (_, i) => ({
        key: `s${i}`,
        merchant: "m1" as const,
        amount_minor: 100n + BigInt(i),
      })),
    );
    // A small batch limit forces several rounds and a reload of the edge from the database.
    const r1 = await sequenceExpecting(ctx, tenant, keys, 2, { cache, batch_max: 2 });
    expect(r1).toMatchObject({ status: "checkpointed", size: 2n, appended: 2 });
    const r2 = await sequenceExpecting(ctx, tenant, keys, 300, { batch_max: 300 });
    expect(r2).toMatchObject({ size: 302n });
    const r3 = await sequenceExpecting(ctx, tenant, keys, 300, { cache });
    expect(r3).toMatchObject({ size: 602n, appended: 300 });
    expect(await checkpointLagMs(db, tenant, clock.now())).toBe(0);

    const order = await leafOrder(tenant);
    expect([...first, ...second].map((id) => order.get(id))).toEqual(
      Array.from({ length: 602 }, (_, i) => BigInt(i)),
    );
    const vkey = await logVkey(db, tenant);
    expect(vkey).toMatch(/^ledger\.test\/t-/);
    const checkpoints = await db.query<{ size: bigint; note: string }>(
      "SELECT size, note FROM log_checkpoints WHERE tenant_id = $1 ORDER BY size",
      [tenant],
    );
    expect(checkpoints.map((row) => BigInt(row.size))).toEqual([0n, 2n, 302n, 602n]);
    const verified = await Promise.all(checkpoints.map((row) => verifyCheckpoint(row.note, [vkey!])));
    const fetch = databaseTileFetcher(db, tenant);
    for (const checkpoint of verified) {
      expect(checkpoint.origin).toBe(`ledger.test/${tenant}`);
      expect(await rootFromTiles(checkpoint.size, fetch)).toEqual(checkpoint.rootHash);
    }
    for (let i = 1; i + 1 < verified.length; i++) {
      const [a, b] = [verified[i]!, verified[i + 1]!];
      const { proof } = await consistencyProof(ctx, tenant, a.size, b.size);
      expect(await verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash)).toBe(true);
    }
    expect((await latestCheckpoint(db, tenant))?.size).toBe(602n);
  });

  // Proves published policies enter the log, rebuild from the policies table,
  // get platform-only bundles that verify, and pass the tamper audit.
  it("logs published policies and serves their proofs to platform roles only", async () => {
    const tenant = await newTestTenant(ctx);
    const body = JSON.parse(readFileSync("examples/policies/simple-marketplace.json", "utf8"));
    const draft = await createPolicyDraft(ctx, tenant, { name: "standard", body });
    await publishPolicy(ctx, tenant, draft.id);
    await sequenceAll(ctx, tenant, keys);
    const bundle = await proofBundle(ctx, tenant, draft.id, { party_id: null });
    expect(bundle.record).toMatchObject({ type: "policy", id: draft.id, name: "standard" });
    expect((await verifyBundle(bundle, [(await logVkey(db, tenant))!])).leafIndex).toBe(0n);
    await expect(proofBundle(ctx, tenant, draft.id, { party_id: "m1" })).rejects.toThrow(/no record/);
    expect(await auditLog(db, tenant)).toMatchObject({ clean: true, leaves_checked: 1 });
  });

  // Proves the log's tables refuse rewrites in raw SQL: records and leaves are insert-only.
  it("keeps tiles, checkpoints, records and leaves append-only", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    await bookSales(ctx, f, [{ key: "a", merchant: "m1", amount_minor: 500n }]);
    await sequenceAll(ctx, tenant, keys);
    for (const sql of [
      "UPDATE log_tiles SET width = width WHERE tenant_id = $1",
      "DELETE FROM log_checkpoints WHERE tenant_id = $1",
      "UPDATE log_leaves SET leaf_index = leaf_index + 1 WHERE tenant_id = $1",
      "DELETE FROM log_leaves WHERE tenant_id = $1",
      "UPDATE log_records SET party_ids = '{}' WHERE tenant_id = $1",
      "UPDATE log_records SET xid = xid WHERE tenant_id = $1",
      "DELETE FROM log_records WHERE tenant_id = $1",
    ]) {
      await expect(db.query(sql, [tenant])).rejects.toThrow(/not allowed/);
    }
    for (const table of ["log_leaves", "log_records"]) {
      // Rolled back even if the trigger were missing: the suites share one database.
      const truncate = db.transaction(async (tx) => {
        await tx.query(`TRUNCATE ${table}`);
        throw new Error(`TRUNCATE ${table} went through`);
      });
      await expect(truncate).rejects.toThrow(/not allowed/);
    }
    expect((await leafOrder(tenant)).size).toBe(1);
  });

  // Proves the cursor neither skips nor repeats a record when rounds stop
  // inside a transaction's records and new transactions commit between rounds,
  // and that the leaves are the records in (xid, id) order, as the tree says.
  it("takes every record exactly once, in (xid, id) order, across rounds cut anywhere", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const cache = new Map();
    const booked: string[] = [];
    const sale = (key: string, i: number) => ({
      key,
      merchant: "m1" as const,
      amount_minor: 100n + BigInt(i),
    });
    for (let round = 0; round < 8; round++) {
      // Two transactions per round (two xids), three and two records each (same xid, several ids).
      booked.push(
        ...(await bookSales(
          ctx,
          f,
          [0, 1, 2].map((i) => sale(`a${round}.${i}`, i)),
        )),
      );
      booked.push(
        ...(await bookSales(
          ctx,
          f,
          [0, 1].map((i) => sale(`b${round}.${i}`, i)),
        )),
      );
      const batch_max = 2 + (round % 3);
      const result = await sequenceOnce(ctx, tenant, { keys, cache, batch_max });
      expect(result.status === "checkpointed" ? result.appended : 0).toBeLessThanOrEqual(batch_max);
    }
    expect(await sequenceAll(ctx, tenant, keys)).toBe(BigInt(booked.length));
    expect(await sequenceOnce(ctx, tenant, { keys, cache })).toEqual({
      status: "idle",
      size: BigInt(booked.length),
    });
    const order = await leafOrder(tenant);
    expect(booked.map((id) => order.get(id))).toEqual(booked.map((_, i) => BigInt(i)));
    const by_xid = await db.query<{ id: string }>(
      "SELECT r.id::text AS id FROM log_records r WHERE r.tenant_id = $1 ORDER BY r.xid, r.id",
      [tenant],
    );
    expect(by_xid.map((row) => row.id)).toEqual(booked);
    const hashes = await db.query<{ id: string; record_sha256: Uint8Array }>(
      "SELECT id::text, record_sha256 FROM log_records WHERE tenant_id = $1",
      [tenant],
    );
    const sha = new Map(hashes.map((row) => [row.id, row.record_sha256]));
    const expected = new MemoryTiledLog().append(booked.map((id) => hashLeaf(leafInputOf(sha.get(id)!))));
    const root = (await latestCheckpoint(db, tenant))?.root;
    expect(Buffer.from(root!).toString("hex")).toBe(Buffer.from(expected.root).toString("hex"));
  });

  // Proves a transaction that commits late is never skipped: records committed
  // after it wait for it, and it gets an index after everything sequenced while it was open.
  it.skipIf(!process.env.DATABASE_URL)(
    "never skips a late commit (PostgreSQL; PGlite runs one transaction at a time)",
    async () => {
      const tenant = await newTestTenant(ctx);
      const f = await logFixture(ctx, tenant);
      // The late transaction locks its own balance rows, so others can commit meanwhile.
      const usd = await logFixture(ctx, tenant, "USD");
      await sequenceOnce(ctx, tenant, { keys });
      let opened!: () => void;
      let release!: () => void;
      let wrote!: () => void;
      const is_open = new Promise<void>((resolve) => (opened = resolve));
      const may_commit = new Promise<void>((resolve) => (release = resolve));
      const has_written = new Promise<void>((resolve) => (wrote = resolve));
      let go_write!: () => void;
      const may_write = new Promise<void>((resolve) => (go_write = resolve));
      let late_id = "";
      const late = db.transaction(async (tx) => {
        await tx.query("SELECT 1");
        opened();
        await may_write;
        const [result] = await writeJournalBatch(
          tx,
          tenant,
          [saleRequest(usd, "late", "m2", 777n)],
          clock.now(),
        );
        if (result?.status !== "created") throw new Error("late sale not created");
        late_id = result.transaction.id;
        wrote();
        await may_commit;
      });
      await is_open;
      // Committed before the late transaction took its xid: sequenced while it is open.
      const [early] = await bookSales(ctx, f, [{ key: "early", merchant: "m1", amount_minor: 100n }]);
      go_write();
      await has_written;
      const [after] = await bookSales(ctx, f, [{ key: "after", merchant: "m1", amount_minor: 200n }]);
      expect(await sequenceExpecting(ctx, tenant, keys, 1)).toMatchObject({ size: 1n });
      // More commits and rounds while the late transaction (the lower xid) stays open:
      // none of them may move the cursor past it.
      const more = await bookSales(
        ctx,
        f,
        [1, 2, 3].map((i) => ({ key: `more${i}`, merchant: "m1" as const, amount_minor: 300n + BigInt(i) })),
      );
      for (let round = 0; round < 3; round++) {
        expect(await sequenceOnce(ctx, tenant, { keys, batch_max: 1 })).toEqual({ status: "idle", size: 1n });
      }
      const during = await leafOrder(tenant);
      expect(during.get(early!)).toBe(0n);
      for (const id of [after!, ...more]) expect(during.get(id)).toBeNull(); // held back, not placed ahead of it
      release();
      await late;
      expect(await sequenceExpecting(ctx, tenant, keys, 2, { batch_max: 2 })).toMatchObject({ size: 3n });
      expect(await sequenceAll(ctx, tenant, keys)).toBe(6n);
      const order = await leafOrder(tenant);
      // Every record exactly once (log_leaves' keys refuse a second leaf), in (xid, id) order.
      expect([early!, late_id, after!, ...more].map((id) => order.get(id))).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
      expect(order.size).toBe(6);
      expect(await sequenceOnce(ctx, tenant, { keys })).toEqual({ status: "idle", size: 6n });
    },
  );

  // Proves two sequencers on one database never both sequence a tenant: the advisory lock elects one.
  it("lets only one concurrent round lead per tenant", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    await bookSales(
      ctx,
      f,
      Array.from({ length: 50 }, (_, i) => ({
        key: `k${i}`,
        merchant: "m1" as const,
        amount_minor: 10n + BigInt(i),
      })),
    );
    // Concurrent rounds until all 50 are in (another database may hold xmin back for a moment).
    let total = 0;
    for (let attempt = 0; total < 50 && attempt < 500; attempt++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => sequenceOnce(ctx, tenant, { keys })));
      const appended = results.map((result) => (result.status === "checkpointed" ? result.appended : 0));
      expect(appended.filter((count) => count > 0).length).toBeLessThanOrEqual(1);
      total += appended.reduce((a, b) => a + b, 0);
      if (total < 50) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(total).toBe(50);
    const sizes = await db.query<{ size: bigint }>("SELECT size FROM log_checkpoints WHERE tenant_id = $1", [
      tenant,
    ]);
    expect(sizes.map((row) => BigInt(row.size))).toContain(50n);
  });
});
