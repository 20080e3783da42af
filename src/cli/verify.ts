import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type Checkpoint,
  leafHash,
  parseCheckpoint,
  parseNote,
  toHex,
  VerifyError,
  verifyBundle,
  verifyCheckpoint,
  verifyConsistency,
} from "../verify/index.ts";
import { statement_usage, verifyStatementFile } from "./verify-statement.ts";

// `clearsplit verify bundle FILE --log-key VKEY [--witness-key VKEY …] [--quorum K]`
// `clearsplit verify log --url URL --log-key VKEY [--state DIR]`
// `clearsplit verify db [--tenant T] [--log-key VKEY] [--grace-seconds N] [--json]`
// Exit 0: verified; 1: verification failed; 2: bad usage or unreadable input.
export const usage =
  "usage: clearsplit verify bundle FILE --log-key VKEY [--log-key VKEY …] [--witness-key VKEY …] [--quorum K]\n" +
  "       clearsplit verify log --url URL --log-key VKEY [--state DIR]\n" +
  "       clearsplit verify db [--tenant T] [--log-key VKEY] [--grace-seconds N] [--json]\n" +
  statement_usage;

function fail(message: string, code: number): number {
  process.stderr.write(`clearsplit verify: ${message}\n`);
  return code;
}

async function verifyBundleFile(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "log-key": { type: "string", multiple: true },
      "witness-key": { type: "string", multiple: true },
      quorum: { type: "string" },
    },
  });
  const [file, ...extra] = positionals;
  const log_keys = values["log-key"] ?? [];
  const witness_keys = values["witness-key"] ?? [];
  if (file === undefined || extra.length > 0) return fail(`expected exactly one bundle FILE\n${usage}`, 2);
  if (log_keys.length === 0) return fail(`--log-key is required\n${usage}`, 2);
  if (values.quorum !== undefined && !/^[0-9]+$/.test(values.quorum))
    return fail("--quorum must be a number", 2);
  const quorum = values.quorum === undefined ? witness_keys.length : Number(values.quorum);
  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    return fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  try {
    const result = await verifyBundle(bundle, log_keys, witness_keys, quorum);
    const witnesses =
      result.cosignedBy.map((c) => `${c.name} (time ${c.timestamp})`).join(", ") || "none required";
    process.stdout.write(
      `OK: record is leaf ${result.leafIndex} of ${result.origin} at tree size ${result.treeSize}\n` +
        `root ${toHex(result.rootHash)} signed by ${result.verifiedBy.join(", ")}; cosigned by ${witnesses}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof VerifyError && (error.code === "bad_vkey" || error.code === "bad_quorum")) {
      return fail(error.message, 2);
    }
    if (error instanceof VerifyError) return fail(`FAILED (${error.code}): ${error.message}`, 1);
    throw error;
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === "bundle") return await verifyBundleFile(rest);
    if (sub === "log") return await verifyLog(rest);
    if (sub === "db") return await verifyDb(rest);
    if (sub === "statement") return await verifyStatementFile(rest, fail);
  } catch (error) {
    // parseArgs throws on unknown options; that is bad usage, not a crash.
    if (error instanceof TypeError) return fail(`${error.message}\n${usage}`, 2);
    throw error;
  }
  return fail(`unknown or missing subcommand\n${usage}`, 2);
}

// ---- verify log: audit a whole log over HTTP from its tiles ----

const entry_bytes_max = 65_535;
const progress_tiles_min = 64;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new VerifyError("fetch_failed", `GET ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Leaf inputs from an entries tile: uint16 big-endian length, then the entry. */
function splitEntries(bytes: Uint8Array, count: number, where: string): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) throw new VerifyError("bad_tile", `${where}: truncated length prefix`);
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (length > entry_bytes_max || offset + 2 + length > bytes.length)
      throw new VerifyError("bad_tile", `${where}: entry overruns the tile`);
    entries.push(bytes.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  if (entries.length !== count)
    throw new VerifyError("bad_tile", `${where}: ${entries.length} entries, expected ${count}`);
  return entries;
}

async function verifyLog(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      "log-key": { type: "string", multiple: true },
      state: { type: "string" },
    },
  });
  const log_keys = values["log-key"] ?? [];
  if (!values.url || log_keys.length === 0) return fail(`--url and --log-key are required\n${usage}`, 2);
  const base = values.url.replace(/\/+$/, "");
  const { MemoryTiledLog, consistencyProofFromTiles, tilePathOf } = await logTools();
  let checkpoint: Checkpoint;
  let note: string;
  try {
    note = new TextDecoder().decode(await fetchBytes(`${base}/checkpoint`));
    checkpoint = await verifyCheckpoint(note, log_keys);
  } catch (error) {
    if (error instanceof VerifyError && error.code === "bad_vkey") return fail(error.message, 2);
    return fail(`FAILED: checkpoint: ${(error as Error).message}`, 1);
  }
  const tree = new MemoryTiledLog();
  const tile_count = Number((checkpoint.size + 255n) / 256n);
  const bar =
    tile_count >= progress_tiles_min && process.stderr.isTTY ? await progressBar(tile_count) : undefined;
  try {
    for (let tile = 0n; tile * 256n < checkpoint.size; tile++) {
      const remaining = checkpoint.size - tile * 256n;
      const width = remaining >= 256n ? 256 : Number(remaining);
      const path = tilePathOf(0, tile, width);
      const [hashes, entries] = await Promise.all([
        fetchBytes(`${base}/${path}`),
        fetchBytes(`${base}/${path.replace(/^tile\/0\//, "tile/entries/")}`),
      ]);
      if (hashes.length !== width * 32) throw new VerifyError("bad_tile", `${path}: ${hashes.length} bytes`);
      const leaves = splitEntries(entries, width, `entries of ${path}`);
      const leaf_hashes = await Promise.all(leaves.map((entry) => leafHash(entry)));
      leaf_hashes.forEach((hash, i) => {
        if (toHex(hash) !== toHex(hashes.subarray(i * 32, (i + 1) * 32)))
          throw new VerifyError(
            "entry_mismatch",
            `leaf ${tile * 256n + BigInt(i)}: entry does not hash to the tile`,
          );
      });
      tree.append(leaf_hashes);
      bar?.increment();
    }
  } catch (error) {
    bar?.stop();
    return fail(`FAILED: ${(error as Error).message}`, 1);
  }
  bar?.stop();
  const root = await tree.root();
  if (toHex(root) !== toHex(checkpoint.rootHash))
    return fail(
      `FAILED (root_mismatch): the tiles of ${checkpoint.size} leaves do not give the signed root`,
      1,
    );
  let consistency = "no earlier checkpoint saved";
  if (values.state) {
    const saved_path = join(values.state, "checkpoint");
    const saved_note = await readFile(saved_path, "utf8").catch(() => undefined);
    if (saved_note !== undefined) {
      const saved = parseCheckpoint(parseNote(saved_note).text);
      if (saved.origin !== checkpoint.origin)
        return fail(`${saved_path} is for ${saved.origin}, not ${checkpoint.origin}`, 2);
      if (saved.size > checkpoint.size)
        return fail(`FAILED (rollback): the log shrank from ${saved.size} to ${checkpoint.size}`, 1);
      const proof =
        saved.size === 0n || saved.size === checkpoint.size
          ? []
          : await consistencyProofFromTiles(saved.size, checkpoint.size, tree.fetch);
      const consistent =
        saved.size === 0n ||
        (await verifyConsistency(saved.size, checkpoint.size, proof, saved.rootHash, checkpoint.rootHash));
      if (!consistent)
        return fail(
          `FAILED (consistency_invalid): size ${checkpoint.size} does not extend saved size ${saved.size}`,
          1,
        );
      consistency = `consistent with saved size ${saved.size}`;
    }
    await mkdir(values.state, { recursive: true });
    await writeFile(`${saved_path}.tmp`, note);
    await rename(`${saved_path}.tmp`, saved_path);
  }
  process.stdout.write(
    `OK: ${checkpoint.origin} size ${checkpoint.size}, root ${toHex(checkpoint.rootHash)} recomputed from all tiles; ${consistency}\n`,
  );
  return 0;
}

async function logTools() {
  const tlog = await import("../tlog/index.ts");
  const { tilePath } = await import("../verify/index.ts");
  class Tree extends tlog.MemoryTiledLog {
    #root: Uint8Array | undefined;
    override append(hashes: readonly Uint8Array[]) {
      const result = super.append(hashes);
      this.#root = result.root;
      return result;
    }
    async root(): Promise<Uint8Array> {
      return this.#root ?? tlog.empty_tree_root;
    }
  }
  return {
    MemoryTiledLog: Tree,
    consistencyProofFromTiles: tlog.consistencyProofFromTiles,
    tilePathOf: (level: number, index: bigint, width: number) => tilePath(level, index, width),
  };
}

async function progressBar(total: number): Promise<{ increment(): void; stop(): void }> {
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar(
    { format: "tiles {bar} {value}/{total} ({eta}s left)", stream: process.stderr },
    progress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { increment: () => bar.increment(), stop: () => bar.stop() };
}

// ---- verify db: the tamper audit over the database ----

async function verifyDb(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tenant: { type: "string", multiple: true },
      "log-key": { type: "string", multiple: true },
      "grace-seconds": { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (values["grace-seconds"] !== undefined && !/^[0-9]+$/.test(values["grace-seconds"]))
    return fail("--grace-seconds must be a number", 2);
  const { openDatabase } = await import("../store/open.ts");
  const { auditLog } = await import("../service/tlog/log-audit.ts");
  const { checkLedgerIntegrity } = await import("../service/ledger/integrity.ts");
  const db = await openDatabase();
  try {
    const { selectKnownTenantIds, selectTenantIds } = await import("../store/tenants-sql.ts");
    const tenants = values.tenant ?? (await selectTenantIds(db));
    const known = await selectKnownTenantIds(db, tenants);
    const unknown = tenants.filter((tenant) => !known.includes(tenant));
    if (unknown.length > 0) return fail(`no tenant ${unknown.join(", ")} in this database`, 2);
    let clean = true;
    const reports = [];
    for (const tenant of tenants) {
      const report = await auditLog(db, tenant, {
        ...(values["log-key"] ? { log_keys: values["log-key"] } : {}),
        grace_ms: values["grace-seconds"] === undefined ? 60_000 : Number(values["grace-seconds"]) * 1000,
      });
      // Records against the log prove nothing about a balance raised out of
      // band: every balance is checked against its postings as well.
      const ledger = await checkLedgerIntegrity(db, tenant);
      clean &&= report.clean && ledger.clean;
      reports.push({ ...report, ledger });
      if (!values.json) process.stdout.write(formatAudit(report) + formatLedger(ledger));
    }
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ clean, tenants: reports }, (_key, value) => (typeof value === "bigint" ? Number(value) : value), 2)}\n`,
      );
    }
    return clean ? 0 : 1;
  } finally {
    await db.close();
  }
}

function formatLedger(ledger: import("../service/ledger/integrity.ts").LedgerIntegrity): string {
  const lines = [`  ledger: ${ledger.accounts} accounts, ${ledger.postings} postings`];
  for (const finding of ledger.findings) lines.push(`  ${finding.finding.padEnd(11)} ${finding.detail}`);
  lines.push(
    ledger.clean
      ? "  OK: the trial balance is zero and every balance equals its postings"
      : "  FAILED: the ledger's balances do not agree with its postings",
  );
  return `${lines.join("\n")}\n`;
}

function formatAudit(report: import("../service/tlog/log-audit.ts").AuditReport): string {
  const lines = [
    `tenant ${report.tenant_id}: ${report.size} leaves under ${report.checkpoints} signed checkpoints` +
      (report.pending > 0 ? `, ${report.pending} queued within the grace period` : "") +
      (report.unchecked > 0 ? `, ${report.unchecked} of kinds not rebuilt yet` : ""),
  ];
  for (const finding of report.findings) {
    const what = [finding.record_kind, finding.record_id].filter(Boolean).join(" ");
    const where = finding.leaf_index === null ? "" : ` (leaf ${finding.leaf_index})`;
    lines.push(`  ${finding.finding.padEnd(11)} ${what}${where}: ${finding.detail}`);
  }
  lines.push(
    report.clean
      ? "  OK: every record matches the signed log"
      : "  FAILED: the database differs from the signed log",
  );
  return `${lines.join("\n")}\n`;
}
