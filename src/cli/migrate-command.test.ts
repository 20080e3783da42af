import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations } from "../store/migrate.ts";
import { openDatabase } from "../store/open.ts";
import { createThrowawayDatabase } from "../testing/db.ts";
import { run } from "./migrate-command.ts";

// `clearsplit migrate` on an empty database applies every migration and says so; run again it
// applies none; a stray argument is a usage error. On the backend under test: a database of its
// own on PostgreSQL, a temporary directory for PGlite.

async function captured(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write_out = process.stdout.write.bind(process.stdout);
  const write_err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await run(argv);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    process.stdout.write = write_out;
    process.stderr.write = write_err;
  }
}

describe("clearsplit migrate", () => {
  const saved = { url: process.env.DATABASE_URL, dir: process.env.CLEARSPLIT_DATA_DIR };
  let drop: () => Promise<void> = async () => {};
  let dir = "";
  beforeAll(async () => {
    if (saved.url) {
      const created = await createThrowawayDatabase(saved.url, "migrate_command");
      drop = created.drop;
      process.env.DATABASE_URL = created.url;
    } else {
      dir = mkdtempSync(join(tmpdir(), "clearsplit-migrate-"));
      process.env.CLEARSPLIT_DATA_DIR = dir;
    }
  }, 120_000);
  afterAll(async () => {
    if (saved.url === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved.url;
    if (saved.dir === undefined) delete process.env.CLEARSPLIT_DATA_DIR;
    else process.env.CLEARSPLIT_DATA_DIR = saved.dir;
    await drop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("applies every migration once, then finds the schema current", async () => {
    const migrations = loadMigrations();
    const latest = migrations.at(-1)!.version;
    const first = await captured([]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain(
      `applied ${migrations.length} (${migrations[0]!.version}–${latest}), schema ${latest}`,
    );
    const second = await captured([]);
    expect(second.code).toBe(0);
    expect(second.out).toContain(`is current (schema ${latest})`);
    const db = await openDatabase({ connections_max: 1 });
    try {
      const [row] = await db.query<{ versions: number }>(
        "SELECT count(*)::int4 AS versions FROM schema_migrations",
      );
      expect(row!.versions).toBe(migrations.length);
    } finally {
      await db.close();
    }
  }, 180_000);

  it("refuses an argument it does not take, with its usage and exit 2", async () => {
    const result = await captured(["now"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('unexpected argument "now"');
    expect(result.err).toContain("usage: clearsplit migrate");
  });
});
