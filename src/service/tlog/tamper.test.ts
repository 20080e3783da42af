import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run as verifyCli } from "../../cli/verify.ts";
import { newId } from "../../core/ids.ts";
import { buildApp } from "../../http/app.ts";
import { openDatabase } from "../../store/open.ts";
import { newTestTenant, testClock, turnTriggersOffLocally } from "../../testing/db.ts";
import { verifyBundle } from "../../verify/index.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { auditLog } from "./log-audit.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, logFixture, sequenceAll } from "./testing.ts";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function runCli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    return { code: await verifyCli(argv), stdout };
  } finally {
    spy.mockRestore();
  }
}

describe("tamper check", () => {
  // The end-to-end test: book, sequence, fetch and verify a merchant's
  // bundle, then change the database behind ClearSplit's back as a superuser
  // with triggers off; `clearsplit verify db` must name every change and fail.
  it("verify db names a changed amount, a deleted posting, a deleted transaction and an inserted one", async () => {
    // On PGlite the CLI opens the same database from disk, so the test uses a file-backed one.
    const data_dir = mkdtempSync(join(tmpdir(), "clearsplit-tamper-"));
    vi.stubEnv("CLEARSPLIT_DATA_DIR", data_dir);
    const open = () => openDatabase(process.env.DATABASE_URL ? {} : { data_dir });
    let db = await open();
    const clock = testClock();
    const ctx = { db, now: clock.now };
    const keys = new LogKeyStore({ host: "ledger.test", secret: "tamper-test-secret" });
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const ids = await bookSales(
      ctx,
      f,
      Array.from({ length: 40 }, (_, i) => ({
        key: `o${i}`,
        merchant: i % 2 === 0 ? ("m1" as const) : ("m2" as const),
        amount_minor: 5_000n + BigInt(i),
      })),
    );
    await sequenceAll(ctx, tenant, keys);
    const vkey = (await logVkey(db, tenant))!;

    const app = await buildApp({ ctx });
    const { key } = await createApiKey(ctx, tenant, { name: "m1", role: "merchant", party_id: "m1" });
    const response = await app.inject({
      url: `/v1/records/${ids[4]}/proof`,
      headers: { authorization: `Bearer ${key}` },
    });
    await app.close();
    expect(response.statusCode).toBe(200);
    expect((await verifyBundle(response.json(), [vkey])).leafIndex).toBe(4n);
    expect((await auditLog(db, tenant)).clean).toBe(true);
    // PGlite is one process per directory: close it while the CLI opens it, then reopen.
    if (!process.env.DATABASE_URL) await db.close();
    const before = await runCli(["db", "--tenant", tenant]);
    expect(before.code, before.stdout).toBe(0);
    expect(before.stdout).toContain("OK: every record matches the signed log");
    if (!process.env.DATABASE_URL) db = await open();

    const [changed, posting_gone, deleted] = [ids[10]!, ids[20]!, ids[30]!];
    const inserted = newId();
    await db.transaction(async (tx) => {
      await turnTriggersOffLocally(tx);
      await tx.query(
        "UPDATE postings SET amount_minor = amount_minor + 100 WHERE tenant_id = $1 AND transaction_id = $2 AND amount_minor > 0 AND account_id = $3",
        [tenant, changed, f.m1.id],
      );
      await tx.query(
        "DELETE FROM postings WHERE tenant_id = $1 AND transaction_id = $2 AND account_id = $3",
        [tenant, posting_gone, f.fees.id],
      );
      await tx.query("DELETE FROM postings WHERE tenant_id = $1 AND transaction_id = $2", [tenant, deleted]);
      await tx.query("DELETE FROM journal_transactions WHERE tenant_id = $1 AND id = $2", [tenant, deleted]);
      await tx.query(
        `INSERT INTO journal_transactions (tenant_id, id, kind, idempotency_key, content_hash, effective_at, recorded_at)
         VALUES ($1, $2, 'sale', 'forged', 'x', now(), now())`,
        [tenant, inserted],
      );
      await tx.query(
        `INSERT INTO postings (tenant_id, transaction_id, seq, account_id, amount_minor, currency, effective_at)
         VALUES ($1, $2, 0, $3, -999, 'EUR', now()), ($1, $2, 1, $4, 999, 'EUR', now())`,
        [tenant, inserted, f.clearing.id, f.m1.id],
      );
    });

    const audit = await auditLog(db, tenant);
    expect(audit.clean).toBe(false);
    const named = audit.findings.map((finding) => `${finding.finding} ${finding.record_id}`).sort();
    expect(named).toEqual(
      [`CHANGED ${changed}`, `CHANGED ${posting_gone}`, `DELETED ${deleted}`, `INSERTED ${inserted}`].sort(),
    );
    if (!process.env.DATABASE_URL) await db.close();
    const plain = await runCli(["db", "--tenant", tenant]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(new RegExp(`CHANGED +journal_transaction ${changed} \\(leaf 10\\)`));
    expect(plain.stdout).toMatch(
      new RegExp(`CHANGED +journal_transaction ${posting_gone} \\(leaf 20\\).*unbalanced`),
    );
    expect(plain.stdout).toMatch(new RegExp(`DELETED +journal_transaction ${deleted} \\(leaf 30\\)`));
    expect(plain.stdout).toMatch(new RegExp(`INSERTED +journal_transaction ${inserted}`));
    const json = await runCli(["db", "--tenant", tenant, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      clean: false,
      tenants: [{ tenant_id: tenant, size: 40 }],
    });
    if (process.env.DATABASE_URL) await db.close();
  }, 180_000);
});
