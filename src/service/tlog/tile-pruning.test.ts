import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../http/app.ts";
import type { Database } from "../../store/database.ts";
import { countRecordsWithoutLeaf } from "../../store/log-leaves-sql.ts";
import { databaseTileFetcher } from "../../store/log-tree-sql.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { hashLeaf, inclusionProofFromTiles, tileCountsAt } from "../../tlog/index.ts";
import { tilePath, verifyCheckpoint, verifyConsistency, verifyInclusion } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { auditLog } from "./log-audit.ts";
import { startSequencer } from "./log-runner.ts";
import { leafInputOf } from "./log-sequencer.ts";
import { consistencyProof, proofBundle } from "./proofs.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, type LogFixture, logFixture, sequenceAll, sequenceExpecting } from "./testing.ts";
import { pruneTiles, tileStorage } from "./tile-pruning.ts";

let db: Database;
let ctx: ServiceContext;
let app: FastifyInstance;
const keys = new LogKeyStore({ host: "ledger.test", secret: "pruning-test-secret" });

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock().now };
  app = await buildApp({ ctx, logger: !!process.env.LOG_DEBUG });
});
afterAll(async () => {
  await app.close();
  await db.close();
});

// Rounds of uneven sizes: 953 leaves, so three full level-0 tiles, a level-0
// partial, and level-1 partials of widths 1, 2 and 3 along the way.
const round_sizes = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 3, 7, 250, 1, 300, 17];

interface Served {
  size: bigint;
  root: Uint8Array;
}

/** Every tile a client holding a checkpoint of `size` may ask for, by path. */
function tilePathsAt(size: bigint): string[] {
  const paths: string[] = [];
  for (const { level, fullTiles, partialWidth } of tileCountsAt(size)) {
    for (let index = 0n; index < fullTiles; index++) paths.push(tilePath(level, index));
    if (partialWidth > 0) paths.push(tilePath(level, fullTiles, partialWidth));
  }
  return paths;
}

async function getTile(tenant: string, path: string): Promise<Buffer> {
  const response = await app.inject(`/log/${tenant}/${path}`);
  expect(response.statusCode, path).toBe(200);
  return response.rawPayload;
}

async function buildRounds(
  f: LogFixture,
  vkey: () => Promise<string>,
): Promise<{
  served: Served[];
  tiles: Map<string, Buffer>;
}> {
  const served: Served[] = [];
  const tiles = new Map<string, Buffer>();
  let booked = 0;
  for (const [round, count] of round_sizes.entries()) {
    await bookSales(
      ctx,
      f,
      Array.from({ length: count }, (_, i) => ({
        key: `r${round}-${i}`,
        merchant: i % 2 === 0 ? ("m1" as const) : ("m2" as const),
        amount_minor: 100n + BigInt(booked + i),
      })),
    );
    booked += count;
    const result = await sequenceExpecting(ctx, f.tenant, keys, count);
    expect(result).toMatchObject({ status: "checkpointed", size: BigInt(booked) });
    if (result.status !== "checkpointed") throw new Error("not checkpointed");
    const checkpoint = await verifyCheckpoint(result.note, [await vkey()]);
    served.push({ size: checkpoint.size, root: checkpoint.rootHash });
    // What a client of this checkpoint fetches, as served before any pruning.
    for (const path of tilePathsAt(checkpoint.size)) {
      const bytes = await getTile(f.tenant, path);
      const earlier = tiles.get(path);
      if (earlier) expect(bytes.equals(earlier), `${path} changed between rounds`).toBe(true);
      tiles.set(path, bytes);
    }
  }
  return { served, tiles };
}

async function leafHashes(tenant: string): Promise<Uint8Array[]> {
  const rows = await db.query<{ record_sha256: Uint8Array }>(
    `SELECT r.record_sha256 FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
      WHERE l.tenant_id = $1 ORDER BY l.leaf_index`,
    [tenant],
  );
  return rows.map((row) => hashLeaf(leafInputOf(row.record_sha256)));
}

describe("pruning partial tiles", () => {
  // Proves pruning keeps every checkpoint servable: after it, the tile endpoint
  // serves byte-identical tiles for every width every earlier checkpoint
  // implied, inclusion and consistency proofs at every old size still verify
  // against the old signed roots, and the stored rows shrink to one per place.
  it("prunes superseded partial tiles and serves every old checkpoint unchanged", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const vkey = async () => (await logVkey(db, tenant))!;
    const { served, tiles } = await buildRounds(f, vkey);
    const latest = served[served.length - 1]!;
    expect(latest.size).toBe(953n);

    const before = await tileStorage(db, tenant);
    // Bounded batches: a small limit takes several passes, each deleting at most that many.
    let passes = 0;
    for (;;) {
      const result = await pruneTiles(db, tenant, 7);
      expect(result.status).toBe("pruned");
      if (result.status !== "pruned" || result.rows === 0) break;
      expect(result.rows).toBeLessThanOrEqual(7);
      passes++;
    }
    expect(passes).toBeGreaterThan(1);
    const after = await tileStorage(db, tenant);
    // Left: three full level-0 tiles, the level-0 partial of width 185 and the level-1 partial of width 3.
    expect(after.rows).toBe(5);
    expect(after.bytes).toBe((3 * 256 + 185 + 3) * 32);
    expect(after.bytes).toBeLessThan(before.bytes);
    expect(before.rows).toBeGreaterThan(after.rows);

    for (const [path, bytes] of tiles) {
      expect((await getTile(tenant, path)).equals(bytes), `${path} after pruning`).toBe(true);
    }
    // Any width up to the stored one is the prefix of the full tile.
    const full = await getTile(tenant, tilePath(0, 0n));
    for (let width = 1; width < 256; width++) {
      expect((await getTile(tenant, tilePath(0, 0n, width))).equals(full.subarray(0, width * 32))).toBe(true);
    }
    // Wider than anything stored is not a tile yet.
    expect((await app.inject(`/log/${tenant}/${tilePath(0, 3n, 186)}`)).statusCode).toBe(404);

    const leaves = await leafHashes(tenant);
    const fetch = databaseTileFetcher(db, tenant);
    for (const old of served) {
      for (const index of new Set([0n, old.size / 2n, old.size - 1n, old.size > 300n ? 257n : 0n])) {
        const proof = await inclusionProofFromTiles(index, old.size, fetch);
        expect(await verifyInclusion(leaves[Number(index)]!, index, old.size, proof, old.root)).toBe(true);
      }
      if (old.size === latest.size) continue;
      const { proof } = await consistencyProof(ctx, tenant, old.size, latest.size);
      expect(await verifyConsistency(old.size, latest.size, proof, old.root, latest.root)).toBe(true);
    }
    const bundle = await proofBundle(ctx, tenant, (await bookedIds(tenant))[5]!, { party_id: null });
    expect(bundle.tree_size).toBe(Number(latest.size));
    // The tamper audit reproduces every signed root from what is left.
    expect(await auditLog(db, tenant)).toMatchObject({ clean: true, checkpoints: served.length });
  });

  // Proves the database refuses every delete but that of a superseded partial
  // tile, and every update: the prune rule is enforced below the application.
  it("refuses to delete full tiles, the newest partial tiles, or to rewrite a tile", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    await bookSales(
      ctx,
      f,
      Array.from({ length: 300 }, (_, i) => ({ key: `a${i}`, merchant: "m1" as const, amount_minor: 100n })),
    );
    await sequenceAll(ctx, tenant, keys);
    for (const sql of [
      "DELETE FROM log_tiles WHERE tenant_id = $1 AND width = 256",
      "DELETE FROM log_tiles WHERE tenant_id = $1 AND width < 256",
      "UPDATE log_tiles SET width = width WHERE tenant_id = $1",
      "TRUNCATE log_tiles",
    ]) {
      await expect(db.query(sql, sql.startsWith("TRUNCATE") ? [] : [tenant])).rejects.toThrow(/not allowed/);
    }
  });

  // Proves the log runner prunes after its rounds: with records arriving over
  // several rounds, what is left is one tile per place and nothing superseded.
  it("prunes in the log runner after each checkpoint", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const sequencer = startSequencer(ctx, { tenant_ids: [tenant], keys, interval_ms: 10 });
    try {
      for (let round = 0; round < 6; round++) {
        await bookSales(
          ctx,
          f,
          Array.from({ length: 30 }, (_, i) => ({
            key: `b${round}-${i}`,
            merchant: "m2" as const,
            amount_minor: 100n,
          })),
        );
        await sequencer.settled();
      }
      // Wait for the runner itself to take the rest (other databases may hold the horizon back).
      for (let wait = 0; wait < 200; wait++) {
        if ((await countRecordsWithoutLeaf(db, tenant)) === 0n) break;
        await sequencer.settled();
      }
      await sequencer.settled();
    } finally {
      await sequencer.stop();
    }
    const [superseded] = await db.query<{ count: bigint }>(
      `SELECT count(*) AS count FROM log_tiles p WHERE p.tenant_id = $1 AND EXISTS (
         SELECT 1 FROM log_tiles w WHERE w.tenant_id = p.tenant_id AND w.level = p.level
            AND w.tile_index = p.tile_index AND w.width > p.width)`,
      [tenant],
    );
    expect(Number(superseded?.count)).toBe(0);
    expect((await tileStorage(db, tenant)).rows).toBeLessThanOrEqual(2);
  });
});

describe("pruning a backlog", () => {
  // Proves a log that stored partial tiles before pruning existed is pruned by
  // the runner after a start, even when no new record arrives.
  it("prunes an old backlog on the runner's first rounds without new records", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    for (let round = 0; round < 4; round++) {
      await bookSales(
        ctx,
        f,
        Array.from({ length: 20 }, (_, i) => ({
          key: `c${round}-${i}`,
          merchant: "m1" as const,
          amount_minor: 100n,
        })),
      );
      await sequenceExpecting(ctx, tenant, keys, 20);
    }
    expect((await tileStorage(db, tenant)).rows).toBe(4);
    const sequencer = startSequencer(ctx, { tenant_ids: [tenant], keys, interval_ms: 10 });
    try {
      await sequencer.settled();
    } finally {
      await sequencer.stop();
    }
    expect(await tileStorage(db, tenant)).toEqual({ rows: 1, bytes: 80 * 32 });
  });
});

async function bookedIds(tenant: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    "SELECT record_id::text AS id FROM log_leaves WHERE tenant_id = $1 ORDER BY leaf_index",
    [tenant],
  );
  return rows.map((row) => row.id);
}
