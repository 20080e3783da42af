import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { exportReadSnapshot, forgetSettlementMarks, prepareRestoreTarget } from "../store/backup-sql.ts";
import { inTransaction } from "../store/retry.ts";

// `clearsplit backup --out FILE`: one consistent snapshot of the database
// (pg_dump on PostgreSQL, in the snapshot the manifest was read in; PGlite's
// own data-directory dump on the embedded database), plus FILE.manifest.json
// with every tenant's latest signed checkpoint and the file's SHA-256.
//
// `clearsplit restore FILE [--checkpoint NOTE …] [--force] [--json]`: into an
// empty database (DATABASE_URL) or an empty PGlite directory, then verified:
// every log root recomputed from the restored tiles and checked against the
// manifest's checkpoints and any given ones, and the ledger re-checked.
// Exit 0: restored and verified; 1: verification failed or refused; 2: usage.

export const usage =
  "usage: clearsplit backup --out FILE\n" +
  "       clearsplit restore FILE [--checkpoint NOTE_FILE …] [--force] [--json]\n";

export const manifest_suffix = ".manifest.json";

function fail(message: string, code: number): number {
  process.stderr.write(`clearsplit: ${message}\n`);
  return code;
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Runs a PostgreSQL client tool; its --verbose lines become progress. */
function runTool(tool: string, args: string[], on_line: (line: string) => void): Promise<void> {
  return new Promise((resolve_run, reject) => {
    const child = spawn(tool, args, { stdio: ["ignore", "inherit", "pipe"] });
    let tail = "";
    let buffered = "";
    child.stderr.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        tail = `${tail}${line}\n`.slice(-4_000);
        on_line(line);
      }
    });
    child.on("error", (error) => reject(new Error(`${tool} could not start: ${error.message}`)));
    child.on("exit", (code) =>
      code === 0 ? resolve_run() : reject(new Error(`${tool} exited with ${code}:\n${tail}${buffered}`)),
    );
  });
}

export async function backup(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: "string" } } });
  if (!values.out) return fail(`--out FILE is required\n${usage}`, 2);
  const out = resolve(values.out);
  if (!existsSync(dirname(out))) return fail(`directory ${dirname(out)} does not exist`, 2);
  const { openDatabase } = await import("../store/open.ts");
  const { tenantCheckpoints, manifest_format } = await import("../service/backup/backup-manifest.ts");
  const db = await openDatabase();
  let tenants: Awaited<ReturnType<typeof tenantCheckpoints>>;
  try {
    if (db.backend === "postgres") {
      const url = process.env.DATABASE_URL!;
      // The manifest is read in the snapshot pg_dump dumps: a repeatable-read
      // transaction exports it and stays open until the dump is done.
      tenants = await inTransaction(db, async (tx) => {
        const snapshot = await exportReadSnapshot(tx);
        const found = await tenantCheckpoints(tx);
        progress(`backup: snapshot ${snapshot}, ${found.length} tenants; running pg_dump`);
        let tables = 0;
        await runTool(
          "pg_dump",
          ["--format=custom", "--verbose", `--snapshot=${snapshot}`, `--file=${out}`, `--dbname=${url}`],
          (line) => {
            if (/dumping contents of table/.test(line))
              progress(`backup: table ${++tables}: ${line.replace(/^.*table /, "")}`);
          },
        );
        return found;
      });
    } else {
      if (db.dumpDataDir === undefined) return fail("this database cannot be dumped", 2);
      tenants = await tenantCheckpoints(db);
      progress(`backup: ${tenants.length} tenants; dumping the PGlite data directory`);
      const blob = await db.dumpDataDir();
      await writeFile(out, Buffer.from(await blob.arrayBuffer()));
    }
  } finally {
    await db.close();
  }
  const manifest = {
    format: manifest_format,
    backend: db.backend,
    created_at: new Date().toISOString(),
    file: basename(out),
    bytes: (await stat(out)).size,
    sha256: await sha256File(out),
    tenants,
  };
  await writeFile(`${out}${manifest_suffix}`, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(
    `backup: ${out} (${manifest.bytes} bytes, sha256 ${manifest.sha256})\n` +
      tenants
        .map((t) => `  ${t.tenant_id}: log size ${t.size}${t.root_hex ? ` root ${t.root_hex}` : ""}`)
        .join("\n") +
      `\nmanifest: ${out}${manifest_suffix}\n`,
  );
  return 0;
}

export async function restore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: "string", multiple: true },
      force: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) return fail(`expected exactly one backup FILE\n${usage}`, 2);
  const path = resolve(file);
  if (!process.env.DATABASE_URL) {
    // A server owning the embedded directory is named first, before any other
    // reason to refuse (issue 12): the user learns which process to stop.
    const { DataDirLockedError, dataDirOwner } = await import("../store/data-dir-lock.ts");
    const { embeddedDataDir } = await import("../store/open.ts");
    const owner = dataDirOwner(embeddedDataDir());
    if (owner !== null) throw new DataDirLockedError(embeddedDataDir(), owner);
  }
  const { manifest_format, verifyRestored } = await import("../service/backup/backup-manifest.ts");
  const { parseCheckpoint, parseNote } = await import("../verify/index.ts");
  let manifest: import("../service/backup/backup-manifest.ts").BackupManifest;
  try {
    manifest = JSON.parse(await readFile(`${path}${manifest_suffix}`, "utf8"));
  } catch (error) {
    return fail(`cannot read ${path}${manifest_suffix}: ${(error as Error).message}`, 2);
  }
  if (manifest.format !== manifest_format)
    return fail(`${path}${manifest_suffix} is not a ClearSplit manifest`, 2);
  if (!existsSync(path)) return fail(`backup file ${path} does not exist`, 2);
  const sha256 = await sha256File(path);
  if (sha256 !== manifest.sha256)
    return fail(`FAILED: ${path} has sha256 ${sha256}, the manifest says ${manifest.sha256}`, 1);
  progress(`restore: ${path} matches its manifest's sha256`);

  // Checkpoints given on the command line (a witness's, an auditor's): the
  // restore must not roll a log back behind one of them.
  const given: { tenant_id: string; source: string; note: string }[] = [];
  for (const note_file of values.checkpoint ?? []) {
    let note: string;
    let origin: string;
    let size: bigint;
    try {
      note = await readFile(note_file, "utf8");
      const checkpoint = parseCheckpoint(parseNote(note).text);
      origin = checkpoint.origin;
      size = checkpoint.size;
    } catch (error) {
      return fail(`cannot read checkpoint ${note_file}: ${(error as Error).message}`, 2);
    }
    const tenant = manifest.tenants.find((t) => origin.endsWith(`/${t.tenant_id}`) || origin === t.tenant_id);
    if (tenant === undefined)
      return fail(`checkpoint ${note_file} (${origin}) is for no tenant in this backup`, 2);
    if (size > BigInt(tenant.size)) {
      const cosigned = note.split("\n").filter((line) => line.startsWith("— ")).length > 1;
      const warning =
        `the backup holds ${tenant.tenant_id}'s log at size ${tenant.size}, behind the ` +
        `${cosigned ? "witness-cosigned " : ""}checkpoint of size ${size} in ${note_file}: restoring would roll the log back`;
      if (!values.force) return fail(`REFUSED: ${warning}; pass --force to restore anyway`, 1);
      process.stderr.write(`clearsplit: WARNING (--force): ${warning}\n`);
      continue;
    }
    given.push({ tenant_id: tenant.tenant_id, source: note_file, note });
  }

  const { openDatabase } = await import("../store/open.ts");
  if (process.env.DATABASE_URL) {
    if (manifest.backend !== "postgres")
      return fail("this is a PGlite backup; unset DATABASE_URL to restore it", 2);
    const url = process.env.DATABASE_URL;
    if (!(await prepareRestoreTarget(url)))
      return fail("REFUSED: the target database is not empty; restore into an empty one", 2);
    let items = 0;
    await runTool(
      "pg_restore",
      ["--verbose", "--no-owner", "--exit-on-error", `--dbname=${url}`, path],
      (line) => {
        if (/processing data for table|creating TABLE/.test(line) && ++items % 10 === 0)
          progress(`restore: ${items} items restored`);
      },
    );
    progress(`restore: pg_restore done (${items} tables and data sets)`);
  } else {
    if (manifest.backend !== "pglite")
      return fail("this is a PostgreSQL backup; set DATABASE_URL to restore it", 2);
    const dir = resolve(process.env.CLEARSPLIT_DATA_DIR ?? ".clearsplit");
    if (existsSync(dir) && readdirSync(dir).length > 0)
      return fail(`REFUSED: ${dir} is not empty; restore into an empty directory (CLEARSPLIT_DATA_DIR)`, 2);
    const { PGlite } = await import("@electric-sql/pglite");
    const pg = await PGlite.create({ dataDir: dir, loadDataDir: new Blob([await readFile(path)]) });
    await pg.close();
    // The dump carries the source directory's lock file; its owner is not this directory's.
    const { lock_file_name } = await import("../store/data-dir-lock.ts");
    await rm(join(dir, lock_file_name), { force: true });
    progress(`restore: PGlite data directory restored into ${dir}`);
  }

  const db = await openDatabase();
  try {
    if (db.backend === "postgres") {
      const forgotten = await forgetSettlementMarks(db);
      if (forgotten > 0)
        progress(`restore: ${forgotten} settlement marks of the source cluster's transaction ids forgotten`);
    }
    const expected = manifest.tenants.map((tenant) => ({
      tenant_id: tenant.tenant_id,
      vkey: tenant.vkey,
      notes: [
        ...(tenant.checkpoint === null ? [] : [{ source: "manifest", note: tenant.checkpoint }]),
        ...given.filter((g) => g.tenant_id === tenant.tenant_id),
      ],
    }));
    const results = await verifyRestored(db, expected);
    const clean = results.every((r) => r.problems.length === 0 && r.ledger_findings.length === 0);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ clean, file: path, sha256, tenants: results }, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
      );
    } else {
      const lines = [`restore report for ${path} (backup of ${manifest.created_at})`];
      for (const result of results) {
        lines.push(`tenant ${result.tenant_id}: log size ${result.restored_size}`);
        for (const check of result.checks) lines.push(`  OK      ${check}`);
        for (const problem of result.problems) lines.push(`  FAILED  ${problem}`);
        for (const finding of result.ledger_findings)
          lines.push(`  FAILED  ${finding.finding}: ${finding.detail}`);
      }
      lines.push(clean ? "OK: restored and verified" : "FAILED: the restored database does not verify");
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return clean ? 0 : 1;
  } finally {
    await db.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  try {
    return await backup(argv);
  } catch (error) {
    if (error instanceof TypeError) return fail(`${error.message}\n${usage}`, 2);
    throw error;
  }
}

/** `clearsplit restore` is its own command; this module serves both. */
export const restoreCommand = {
  usage,
  async run(argv: string[]): Promise<number> {
    try {
      return await restore(argv);
    } catch (error) {
      if (error instanceof TypeError) return fail(`${error.message}\n${usage}`, 2);
      throw error;
    }
  },
};
