import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildProofBundle, newRecordSalt } from "../tlog/bundle-builder.ts";
import { signCheckpoint } from "../tlog/checkpoint-format.ts";
import { MemoryTiledLog } from "../tlog/memory-log.ts";
import { generateSigner } from "../tlog/note-signer.ts";
import { inclusionProofFromTiles } from "../tlog/tile-proofs.ts";
import { hashLeaf } from "../tlog/tree-hash.ts";
import { recordLeafInput } from "../verify/index.ts";
import { run } from "./verify.ts";

const origin = "ledger.example/acme";
const log = generateSigner(origin);
let stderr = "";

beforeEach(() => {
  stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

async function writeBundle(): Promise<string> {
  const tree = new MemoryTiledLog();
  const record = { id: "tx-1", amount: "12.34" };
  const salt = newRecordSalt();
  const result = tree.append([hashLeaf(new Uint8Array([1])), hashLeaf(await recordLeafInput(record, salt))]);
  const bundle = buildProofBundle({
    origin,
    record,
    salt,
    leaf_index: 1n,
    tree_size: result.size,
    inclusion_proof: await inclusionProofFromTiles(1n, result.size, tree.fetch),
    checkpoint: signCheckpoint(origin, result.size, result.root, log),
  });
  const file = join(mkdtempSync(join(tmpdir(), "bundle-")), "bundle.json");
  writeFileSync(file, JSON.stringify(bundle));
  return file;
}

describe("clearsplit verify bundle", () => {
  // Proves the exit codes: 0 verified, 1 verification failed, 2 bad usage, each with a stderr message.
  it("verifies, rejects and reports bad usage", async () => {
    const file = await writeBundle();
    expect(await run(["bundle", file, "--log-key", log.vkey])).toBe(0);
    expect(await run(["bundle", file, "--log-key", generateSigner(origin).vkey])).toBe(1);
    expect(stderr).toMatch(/no_known_signature/);
    expect(await run(["bundle", file])).toBe(2);
    expect(await run(["bundle", "/nonexistent.json", "--log-key", log.vkey])).toBe(2);
    expect(await run(["bundle", file, "--log-key", log.vkey, "--bogus"])).toBe(2);
    expect(await run(["bundle", file, "--log-key", log.vkey, "--quorum", "x"])).toBe(2);
    expect(await run(["bundle", file, "--log-key", "not-a-vkey"])).toBe(2);
    expect(await run([])).toBe(2);
  });
});
