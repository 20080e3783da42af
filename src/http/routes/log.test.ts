import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { LogKeyStore } from "../../service/tlog/signing-keys.ts";
import { bookSales, logFixture, sequenceAll } from "../../service/tlog/testing.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { hashLeaf } from "../../tlog/index.ts";
import {
  fromBase64Strict,
  leafHash,
  tilePath,
  verifyBundle,
  verifyCheckpoint,
  verifyConsistency,
} from "../../verify/index.ts";
import { buildApp } from "../app.ts";
import { parseTileRequest } from "./log.ts";

let db: Database;
let ctx: ServiceContext;
let app: FastifyInstance;
const keys = new LogKeyStore({ host: "ledger.test", secret: "http-test-secret" });

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock().now };
  app = await buildApp({ ctx, logger: !!process.env.LOG_DEBUG });
});
afterAll(async () => {
  await app.close();
  await db.close();
});

async function bearer(tenant: string, role: "merchant" | "auditor" | "reviewer", party_id?: string) {
  const { key } = await createApiKey(ctx, tenant, { name: role, role, party_id });
  return { authorization: `Bearer ${key}` };
}

describe("log HTTP", () => {
  // Proves tile paths are parsed strictly: only the canonical tlog-tiles spelling is a tile.
  it("parses tile paths strictly", () => {
    expect(parseTileRequest("0/x001/x234/067.p/112")).toEqual({
      entries: false,
      level: 0,
      index: 1234067n,
      width: 112,
    });
    expect(parseTileRequest("entries/000")).toEqual({ entries: true, level: 0, index: 0n, width: 256 });
    expect(parseTileRequest("2/001")).toMatchObject({ level: 2, index: 1n, width: 256 });
    for (const bad of [
      "0/1",
      "0/x000/001",
      "0/001.p/256",
      "0/001.p/0",
      "0/001.p/07",
      "8/001",
      "0/001/",
      "../001",
      "0/x001",
    ])
      expect(parseTileRequest(bad), bad).toBeUndefined();
  });

  // Proves everything served verifies offline: the checkpoint, every tile, the
  // entries (leaf inputs only), proof bundles and consistency proofs; and that
  // a merchant reaches its own records only, with 404 for anyone else's.
  it("serves checkpoints, tiles, entries and proofs that verify offline, scoped to the party", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const sales = Array.from({ length: 300 }, (_, i) => ({
      key: `s${i}`,
      merchant: i % 3 === 0 ? ("m2" as const) : ("m1" as const),
      amount_minor: 1000n + BigInt(i),
    }));
    const ids = await bookSales(ctx, f, sales.slice(0, 10));
    expect((await app.inject(`/log/${tenant}/checkpoint`)).statusCode).toBe(404);
    await sequenceAll(ctx, tenant, keys);
    ids.push(...(await bookSales(ctx, f, sales.slice(10))));

    const m1 = await bearer(tenant, "merchant", "m1");
    const unsequenced = await app.inject({ url: `/v1/records/${ids[299]}/proof`, headers: m1 });
    expect(unsequenced.statusCode).toBe(409);
    expect(unsequenced.json()).toMatchObject({ code: "record_not_sequenced" });
    await sequenceAll(ctx, tenant, keys);

    const vkey_response = await app.inject(`/log/${tenant}/vkey`);
    const vkey = vkey_response.body.trim();
    const checkpoint_response = await app.inject(`/log/${tenant}/checkpoint`);
    expect(checkpoint_response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    const checkpoint = await verifyCheckpoint(checkpoint_response.body, [vkey]);
    expect(checkpoint.size).toBe(300n);

    // Level-0 tiles and entry tiles: each entry is a public leaf input and hashes into its tile.
    for (const [index, width] of [
      [0n, 256],
      [1n, 44],
    ] as const) {
      const tile = await app.inject(`/log/${tenant}/${tilePath(0, index, width)}`);
      expect(tile.statusCode).toBe(200);
      expect(tile.headers["cache-control"]).toContain("immutable");
      const entries = await app.inject(
        `/log/${tenant}/${tilePath(0, index, width).replace("tile/0/", "tile/entries/")}`,
      );
      expect(entries.rawPayload.length).toBe(width * 48);
      for (let i = 0; i < width; i += 37) {
        const entry = entries.rawPayload.subarray(i * 48 + 2, i * 48 + 48);
        expect(entry.subarray(0, 14).toString()).toBe("clearsplit/v1\n");
        expect(Buffer.from(await leafHash(entry))).toEqual(tile.rawPayload.subarray(i * 32, i * 32 + 32));
      }
    }
    expect((await app.inject(`/log/${tenant}/tile/0/001.p/45`)).statusCode).toBe(404);
    expect((await app.inject(`/log/${tenant}/tile/0/1`)).statusCode).toBe(404);
    expect((await app.inject(`/log/${tenant}/tile/entries/002`)).statusCode).toBe(404);
    expect((await app.inject("/log/no-such-tenant/checkpoint")).json()).toMatchObject({ status: 404 });

    // Own record: a bundle that verifies with the pinned key, record and salt included.
    const own = ids[1]!;
    const bundle_response = await app.inject({ url: `/v1/records/${own}/proof`, headers: m1 });
    expect(bundle_response.statusCode, bundle_response.body).toBe(200);
    const bundle = bundle_response.json();
    expect(bundle.record).toMatchObject({ type: "journal_transaction", id: own });
    const verified = await verifyBundle(bundle, [vkey]);
    expect(verified.leafIndex).toBe(1n);
    expect(hashLeaf(new Uint8Array([0]))).toHaveLength(32);

    // Another party's record and an unknown id look the same: 404.
    for (const url of [
      `/v1/records/${ids[0]}/proof`,
      "/v1/records/00000000-0000-7000-8000-000000000000/proof",
      "/v1/records/nope/proof",
    ]) {
      const response = await app.inject({ url, headers: m1 });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ code: "record_not_found" });
    }
    const auditor = await bearer(tenant, "auditor");
    expect((await app.inject({ url: `/v1/records/${ids[0]}/proof`, headers: auditor })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: `/v1/records/${ids[0]}/proof`, headers: await bearer(tenant, "reviewer") }))
        .statusCode,
    ).toBe(403);
    expect((await app.inject(`/v1/records/${own}/proof`)).statusCode).toBe(401);

    // Consistency between the two checkpoints, and the checkpoint list.
    const list_response = await app.inject({ url: "/v1/log/checkpoints", headers: m1 });
    expect(list_response.statusCode, list_response.body).toBe(200);
    const list = list_response.json();
    // A size-0 checkpoint exists too if the first round ran before the first commit was visible.
    expect(list.items.map((item: { size: number }) => item.size).filter((size: number) => size > 0)).toEqual([
      300, 10,
    ]);
    const consistency = (await app.inject({ url: "/v1/log/consistency?from=10&to=300", headers: m1 })).json();
    const proof = consistency.proof.map((hash: string) => fromBase64Strict(hash)!);
    const old_root = fromBase64Strict(list.items[1].root)!;
    expect(await verifyConsistency(10n, 300n, proof, old_root, checkpoint.rootHash)).toBe(true);
    expect((await app.inject({ url: "/v1/log/consistency?from=10&to=299", headers: m1 })).statusCode).toBe(
      404,
    );
    expect((await app.inject({ url: "/v1/log/consistency?from=0&to=300", headers: m1 })).statusCode).toBe(
      400,
    );
    const doc = (await app.inject("/openapi.json")).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/records/{id}/proof", "/log/{tenant}/checkpoint"]),
    );
  });
});
