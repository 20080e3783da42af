import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { run as verifyCli } from "../../cli/verify.ts";
import { buildApp } from "../../http/app.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { generateSigner, hashLeaf, signCheckpoint } from "../../tlog/index.ts";
import { parseNote, verifyBundle, verifyCosignature } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { createWitnessServer } from "../witness/witness-server.ts";
import { loadWitnessSigner } from "../witness/witness-state.ts";
import { startSequencer } from "./log-runner.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, logFixture, sequenceAll } from "./testing.ts";
import type { WitnessConfig } from "./witnesses.ts";

let db: Database;
let ctx: ServiceContext;
const closers: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await db.close();
});

async function startWitness(origin: string, log_vkey: string, name: string) {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const signer = await loadWitnessSigner(dir, name);
  const server = createWitnessServer({ origin, logKeys: [log_vkey], signer, stateDir: dir, state: null });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => void server.close());
  return { signer, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/add-checkpoint` };
}

async function waitFor(done: () => Promise<boolean>, wait_ms_max = 20_000): Promise<void> {
  const deadline = Date.now() + wait_ms_max;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${wait_ms_max} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("witnessed log", () => {
  // Proves the sequencer loop gets two real witness servers to cosign each new
  // checkpoint (with consistency proofs from stored tiles), that the served
  // checkpoint carries both cosignatures, that a bundle meets a quorum of 2,
  // that a forked checkpoint is refused, and that `verify log` audits the whole
  // log over HTTP and keeps its state.
  it("collects cosignatures from two witnesses and serves them; verify log audits the tiles", async () => {
    const keys = new LogKeyStore({ host: "ledger.test", secret: "witness-test-secret" });
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const origin = keys.origin(tenant);
    const log_vkey = (await keys.signer(db, tenant)).vkey;
    const w1 = await startWitness(origin, log_vkey, "w1.test");
    const w2 = await startWitness(origin, log_vkey, "w2.test");
    const witnesses: WitnessConfig[] = [
      { tenant_id: tenant, url: w1.url, vkey: w1.signer.vkey },
      { tenant_id: tenant, url: w2.url, vkey: w2.signer.vkey },
    ];
    const outcomes: string[] = [];
    const sequencer = startSequencer(ctx, {
      tenant_ids: [tenant],
      interval_ms: 20,
      keys,
      witnesses,
      on_witness: (_tenant, results) => outcomes.push(...results.map((result) => result.status)),
      on_error: (error) => outcomes.push(`error ${String(error)}`),
    });
    closers.push(() => sequencer.stop());
    const ids = await bookSales(ctx, f, [{ key: "a", merchant: "m1", amount_minor: 100n }]);
    await sequencer.settled();
    ids.push(
      ...(await bookSales(
        ctx,
        f,
        Array.from({ length: 700 }, (_, i) => ({
          key: `b${i}`,
          merchant: "m2" as const,
          amount_minor: 10n + BigInt(i),
        })),
      )),
    );
    await sequencer.settled();
    await waitFor(async () => {
      const [row] = await db.query<{ count: bigint }>(
        `SELECT count(*) AS count FROM log_cosignatures s
          WHERE s.tenant_id = $1 AND s.size = (SELECT max(size) FROM log_checkpoints WHERE tenant_id = $1)
            AND NOT EXISTS (SELECT 1 FROM log_records r WHERE r.tenant_id = $1
                  AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.tenant_id = r.tenant_id AND l.record_id = r.id))`,
        [tenant],
      );
      return BigInt(row?.count ?? 0n) === 2n;
    });
    await sequencer.stop();
    expect(outcomes.filter((outcome) => outcome !== "cosigned")).toEqual([]);

    const app = await buildApp({ ctx });
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/log/${tenant}`;
    const note = await (await fetch(`${base}/checkpoint`)).text();
    expect(parseNote(note).text).toBe(`${origin}\n701\n${parseNote(note).text.split("\n")[2]}\n`);
    for (const witness of [w1, w2])
      expect((await verifyCosignature(note, witness.signer.vkey)).timestamp).toBeGreaterThan(0n);

    const { createApiKey } = await import("../auth/api-keys.ts");
    const { key } = await createApiKey(ctx, tenant, { name: "m2", role: "merchant", party_id: "m2" });
    const bundle = await (
      await fetch(
        `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/records/${ids[500]}/proof`,
        {
          headers: { authorization: `Bearer ${key}` },
        },
      )
    ).json();
    const verified = await verifyBundle(bundle, [log_vkey], [w1.signer.vkey, w2.signer.vkey], 2);
    expect(verified.cosignedBy.map((c) => c.name).sort()).toEqual(["w1.test", "w2.test"]);

    // A forked tree at the cosigned size, even signed by the real log key, is refused.
    const fork = signCheckpoint(origin, 701n, hashLeaf(new Uint8Array([1])), await keys.signer(db, tenant));
    const refused = await fetch(w1.url, { method: "POST", body: `old 701\n\n${fork}` });
    expect(refused.status).toBe(409);

    // verify log: whole-log audit from tiles and entries, then a saved state that must only grow.
    const state = mkdtempSync(join(tmpdir(), "verify-log-"));
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stderr: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const vkey = (await logVkey(db, tenant))!;
    const stdout: string[] = [];
    vi.mocked(process.stdout.write).mockImplementation((chunk) => {
      stdout.push(String(chunk));
      return true;
    });
    expect(
      await verifyCli(["log", "--url", base, "--log-key", vkey, "--state", state]),
      stderr.join(""),
    ).toBe(0);
    await bookSales(ctx, f, [{ key: "c", merchant: "m1", amount_minor: 50n }]);
    await sequenceAll(ctx, tenant, keys);
    expect(
      await verifyCli(["log", "--url", base, "--log-key", vkey, "--state", state]),
      stderr.join(""),
    ).toBe(0);
    expect(stdout.join("")).toContain("size 702");
    expect(stdout.join("")).toContain("consistent with saved size 701");
    const impostor = generateSigner(origin).vkey;
    expect(await verifyCli(["log", "--url", base, "--log-key", impostor])).toBe(1);
    vi.restoreAllMocks();
  });
});
