import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signCheckpoint } from "../../tlog/checkpoint-format.ts";
import { MemoryTiledLog } from "../../tlog/memory-log.ts";
import { generateSigner } from "../../tlog/note-signer.ts";
import { consistencyProofFromTiles } from "../../tlog/tile-proofs.ts";
import { hashLeaf } from "../../tlog/tree-hash.ts";
import { toBase64, verifyCosignature } from "../../verify/index.ts";
import { createWitnessServer } from "./witness-server.ts";
import { loadWitnessSigner, loadWitnessState } from "./witness-state.ts";

const origin = "ledger.example/acme";
const log_signer = generateSigner(origin);
const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function startWitness(dir: string) {
  const signer = await loadWitnessSigner(dir, "w.example");
  const server = createWitnessServer({
    origin,
    logKeys: [log_signer.vkey],
    signer,
    stateDir: dir,
    state: await loadWitnessState(dir),
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/add-checkpoint`;
  const post = async (old: bigint, proof: Uint8Array[], note: string) => {
    const response = await fetch(url, {
      method: "POST",
      body: `old ${old}\n${proof.map((hash) => `${toBase64(hash)}\n`).join("")}\n${note}`,
    });
    return { status: response.status, body: await response.text() };
  };
  return { signer, post };
}

describe("witness server", () => {
  // Proves the HTTP witness cosigns, persists its state across restarts, and
  // answers conflicts and forks with tlog-witness status codes.
  it("cosigns over HTTP and remembers what it cosigned", async () => {
    const dir = mkdtempSync(join(tmpdir(), "witness-"));
    const log = new MemoryTiledLog();
    const leaf = (i: number) => hashLeaf(new TextEncoder().encode(`r${i}`));
    const first = log.append(Array.from({ length: 10 }, (_, i) => leaf(i)));
    const note10 = signCheckpoint(origin, first.size, first.root, log_signer);
    const witness = await startWitness(dir);
    const cosigned = await witness.post(0n, [], note10);
    expect(cosigned.status).toBe(200);
    expect(await verifyCosignature(note10 + cosigned.body, witness.signer.vkey)).toHaveProperty("timestamp");

    // A restarted witness keeps its key and its state.
    const restarted = await startWitness(dir);
    expect(restarted.signer.vkey).toBe(witness.signer.vkey);
    const second = log.append(Array.from({ length: 300 }, (_, i) => leaf(10 + i)));
    const note310 = signCheckpoint(origin, second.size, second.root, log_signer);
    const stale = await restarted.post(0n, [], note310);
    expect(stale).toEqual({ status: 409, body: "10\n" });
    const proof = await consistencyProofFromTiles(10n, 310n, log.fetch);
    expect((await restarted.post(10n, proof, note310)).status).toBe(200);

    const fork = signCheckpoint(origin, 310n, hashLeaf(new Uint8Array([9])), log_signer);
    expect((await restarted.post(310n, [], fork)).status).toBe(409);
    expect((await restarted.post(310n, [], note310.replace("310", "311"))).status).toBe(403);
    expect((await restarted.post(310n, [], "garbage")).status).toBe(400);
    expect((await loadWitnessState(dir))?.size).toBe(310n);
  });
});
