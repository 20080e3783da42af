import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { bookOrders } from "../service/orders/book.ts";
import { servedCheckpoint } from "../service/tlog/proofs.ts";
import { LogKeyStore } from "../service/tlog/signing-keys.ts";
import { sequenceAll } from "../service/tlog/testing.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase, type ScratchDatabase } from "../store/scratch-database.ts";
import { databaseDigest } from "../testing/fuzz/digest.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { run as backup, restoreCommand } from "./backup.ts";

// Backup and restore, round trip on the backend under test: the restored
// database has the same rows in every table (balances, records, log tiles,
// checkpoints), its roots verify against the manifest, a corrupted file is
// refused, and so is a restore behind a newer signed checkpoint unless forced.

const admin_url = process.env.DATABASE_URL;
let output = "";
const databases: ScratchDatabase[] = [];
const saved_env = { ...process.env };

beforeEach(() => {
  output = "";
  const capture = (chunk: unknown) => {
    output += String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.env = { ...saved_env };
  if (admin_url === undefined) return;
  for (const scratch of databases.splice(0)) await scratch.drop();
});

/** A fresh, empty database (PostgreSQL) or directory (PGlite), made current for the CLI. */
async function freshTarget(label: string): Promise<void> {
  if (admin_url === undefined) {
    process.env.CLEARSPLIT_DATA_DIR = join(mkdtempSync(join(tmpdir(), `cs-${label}-`)), "data");
    return;
  }
  const scratch = await createScratchDatabase(admin_url, `clearsplit_i_${label}`);
  databases.push(scratch);
  process.env.DATABASE_URL = scratch.url;
}

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const keys = new LogKeyStore({ host: "ledger.test", secret: "backup-secret" });

async function bookAndSequence(db: Database, tenant: string, ids: string[]): Promise<string> {
  const ctx: ServiceContext = { db, now: () => new Date() };
  await bookOrders(
    ctx,
    tenant,
    ids.map((id) => ({ ...issue_order, id })),
  );
  await sequenceAll(ctx, tenant, keys);
  return servedCheckpoint(db, tenant);
}

describe("clearsplit backup and restore", () => {
  it("round-trips every row, verifies the log against the manifest, and refuses corruption and rollback", async () => {
    const tenant = "backup";
    await freshTarget("bksrc");
    await withDb(async (db) => {
      const ctx: ServiceContext = { db, now: () => new Date() };
      await ensureTenant(ctx, { id: tenant, name: "backup test" });
      await seedExampleMarketplace(ctx, tenant);
      await bookAndSequence(db, tenant, ["b-1", "b-2", "b-3"]);
      // A settlement mark (migration 092) names a transaction id of this cluster: a restore must forget it.
      if (db.backend === "postgres")
        await db.query(
          `INSERT INTO settlement_account_marks (tenant_id, account_id, taken_below)
           SELECT tenant_id, id, pg_current_xact_id() FROM accounts WHERE tenant_id = $1 LIMIT 1`,
          [tenant],
        );
    });
    const file = join(mkdtempSync(join(tmpdir(), "cs-backup-")), "clearsplit.backup");
    expect(await backup(["--out", file]), output).toBe(0);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, "utf8"));
    expect(manifest.tenants.find((t: { tenant_id: string }) => t.tenant_id === tenant).size).not.toBe("0");
    const source_digest = await withDb((db) => databaseDigest(db));

    // The source moves on: a newer checkpoint that the backup does not hold.
    const newer = await withDb((db) => bookAndSequence(db, tenant, ["b-4"]));
    const newer_file = join(mkdtempSync(join(tmpdir(), "cs-cp-")), "checkpoint");
    writeFileSync(newer_file, newer);

    await freshTarget("bkdst");
    output = "";
    expect(await restoreCommand.run([file]), output).toBe(0);
    expect(output).toMatch(/root at size \d+ recomputed and matches the signed checkpoint/);
    expect(output).toMatch(/OK: restored and verified/);
    const restored_digest = await withDb((db) => databaseDigest(db));
    if (admin_url !== undefined) {
      expect(output).toMatch(/restore: 1 settlement marks of the source cluster's transaction ids forgotten/);
      expect(source_digest.tables.settlement_account_marks).toMatch(/^1:/);
      expect(restored_digest.tables.settlement_account_marks).toBe("0:0");
      delete source_digest.tables.settlement_account_marks;
      delete restored_digest.tables.settlement_account_marks;
    }
    expect(restored_digest.tables).toEqual(source_digest.tables);

    // Restoring into a database that is not empty is refused.
    output = "";
    expect(await restoreCommand.run([file])).toBe(2);
    expect(output).toMatch(/not empty/);

    // Behind a newer signed checkpoint: refused, unless forced.
    await freshTarget("bkold");
    output = "";
    expect(await restoreCommand.run([file, "--checkpoint", newer_file])).toBe(1);
    expect(output).toMatch(/REFUSED: .*roll the log back/);
    expect(await restoreCommand.run([file, "--checkpoint", newer_file, "--force"])).toBe(0);
    expect(output).toMatch(/WARNING \(--force\)/);

    // A corrupted file fails its checksum.
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(file, bytes);
    await freshTarget("bkbad");
    output = "";
    expect(await restoreCommand.run([file])).toBe(1);
    expect(output).toMatch(/sha256/);
  }, 300_000);
});
