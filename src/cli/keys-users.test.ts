import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { authenticateApiKey } from "../service/auth/api-keys.ts";
import { login } from "../service/auth/sessions.ts";
import { createParty } from "../service/ledger/accounts.ts";
import { openDatabase } from "../store/open.ts";
import { newTestTenant } from "../testing/db.ts";
import { run as keys } from "./keys-command.ts";
import { run as users } from "./users-command.ts";

// The CLIs open the configured database themselves (openDatabase()): a PGlite
// directory here, or DATABASE_URL's PostgreSQL.

const dir = mkdtempSync(join(tmpdir(), "clearsplit-cli-"));
let tenant: string;
const saved = process.env.CLEARSPLIT_DATA_DIR;

beforeAll(async () => {
  process.env.CLEARSPLIT_DATA_DIR = dir;
  const db = await openDatabase();
  const ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "cli");
  await createParty(ctx, tenant, { id: "m-1", kind: "merchant", name: "M" });
  await db.close();
});
afterAll(() => {
  if (saved === undefined) delete process.env.CLEARSPLIT_DATA_DIR;
  else process.env.CLEARSPLIT_DATA_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    return { code: await fn(), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe("clearsplit keys and users", () => {
  it("creates a key shown once, lists it without its secret, revokes it, and the key stops working", async () => {
    const created = await capture(() =>
      keys(["create", "--tenant", tenant, "--name", "mall", "--role", "merchant", "--party", "m-1"]),
    );
    expect(created.code).toBe(0);
    const key = /key:\s+(cs_live_\S+)/.exec(created.out)![1]!;
    const id = /id:\s+(\S+)/.exec(created.out)![1]!;
    const listed = await capture(() => keys(["list", "--tenant", tenant, "--json"]));
    expect(listed.out).toContain(id);
    expect(listed.out).not.toContain(key.slice(-32));
    const db = await openDatabase();
    expect(await authenticateApiKey(db, key, new Date())).toMatchObject({
      role: "merchant",
      party_id: "m-1",
    });
    await db.close();
    expect(
      (await capture(() => keys(["revoke", "--tenant", tenant, "--id", id, "--reason", "rotated"]))).code,
    ).toBe(0);
    const again = await openDatabase();
    expect(await authenticateApiKey(again, key, new Date())).toBeNull();
    await again.close();
    const bad = await capture(() =>
      keys(["create", "--tenant", tenant, "--name", "x", "--role", "merchant"]),
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("party_id");
    expect((await capture(() => keys(["create", "--name", "x", "--role", "auditor"]))).code).toBe(2);
  });

  it("creates a user with a generated password printed once, which then logs in", async () => {
    const created = await capture(() =>
      users([
        "create",
        "--tenant",
        tenant,
        "--role",
        "merchant",
        "--party",
        "m-1",
        "--email",
        "Shop@Example.com",
      ]),
    );
    expect(created.code).toBe(0);
    const password = /password:\s+(\S+)/.exec(created.out)![1]!;
    expect(password).toHaveLength(20);
    const db = await openDatabase();
    const result = await login(
      { db, now: () => new Date() },
      { tenant_id: tenant, login: "shop@example.com", password, ip: "127.0.0.1" },
    );
    expect(result.outcome).toBe("success");
    await db.close();
    const refused = await capture(() =>
      users(["create", "--tenant", tenant, "--role", "finance", "--party", "m-1"]),
    );
    expect(refused.code).toBe(1);
    expect((await capture(() => users(["create", "--tenant", tenant, "--role", "boss"]))).code).toBe(2);
  });
});
