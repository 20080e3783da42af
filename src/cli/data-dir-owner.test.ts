import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../service/auth/api-keys.ts";
import { createParty } from "../service/ledger/accounts.ts";
import { lock_file_name } from "../store/data-dir-lock.ts";
import { openDatabase } from "../store/open.ts";
import { createThrowawayDatabase, newTestTenant } from "../testing/db.ts";

// Issue 12: with `clearsplit serve` running on the embedded database, a CLI
// write used to exit 0 while the server never saw it. Now the server owns the
// directory and every data-changing command either reaches it or fails with
// exit 2, naming the server's pid and URL, having written nothing. On
// PostgreSQL, CLI and server share the database safely and nothing changes.

const exec = promisify(execFile);
const on_postgres = Boolean(process.env.DATABASE_URL);
const dir = mkdtempSync(join(tmpdir(), "clearsplit-owner-"));
const env: NodeJS.ProcessEnv = { ...process.env, CLEARSPLIT_DATA_DIR: dir };
let throwaway: Awaited<ReturnType<typeof createThrowawayDatabase>> | undefined;
let tenant: string;
let server: ChildProcess;
let url: string;
let banner = "";

async function cli(
  args: string[],
  extra_env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      env: { ...env, ...extra_env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", "--host", "127.0.0.1"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      // The banner names the directory the server really opened (CLEARSPLIT_DATA_DIR).
      if (match && out.includes("database:")) {
        banner = out;
        resolve({ child, url: match[1]! });
      }
    });
    child.stderr!.on("data", (chunk) => {
      err += String(chunk);
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function counts(): Promise<{ keys: number; users: number }> {
  const db = await openDatabase({ data_dir: dir, database_url: env.DATABASE_URL });
  try {
    const [keys] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM api_keys WHERE tenant_id = $1",
      [tenant],
    );
    const [users] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM users WHERE tenant_id = $1",
      [tenant],
    );
    return { keys: Number(keys!.n), users: Number(users!.n) };
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  // On PostgreSQL, a database of its own for the server (see createThrowawayDatabase).
  if (on_postgres) {
    throwaway = await createThrowawayDatabase(process.env.DATABASE_URL!, "owner");
    env.DATABASE_URL = throwaway.url;
  }
  const db = await openDatabase({ data_dir: dir, database_url: env.DATABASE_URL });
  const ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "owner");
  await createParty(ctx, tenant, { id: "m-1", kind: "merchant", name: "M" });
  await db.close();
  ({ child: server, url } = await startServer());
}, 120_000);
afterAll(async () => {
  if (server) await stop(server);
  await throwaway?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const key_args = [
  "keys",
  "create",
  "--tenant",
  "TENANT",
  "--name",
  "n",
  "--role",
  "merchant",
  "--party",
  "m-1",
];
const args = (list: string[]) => list.map((arg) => (arg === "TENANT" ? tenant : arg));

describe.runIf(!on_postgres)("the embedded database has one owner", () => {
  it("refuses every data-changing command with exit 2 naming the server's pid and URL, and writes nothing", async () => {
    expect(banner).toContain(`database:      embedded PGlite (${dir})`);
    const lock = JSON.parse(readFileSync(join(dir, lock_file_name), "utf8")) as { pid: number; url: string };
    expect(lock).toMatchObject({ pid: server.pid, url });
    const commands = [
      args(key_args),
      args(["users", "create", "--tenant", "TENANT", "--role", "finance"]),
      args(["keys", "revoke", "--tenant", "TENANT", "--id", "00000000-0000-7000-8000-000000000000"]),
      ["demo", "--reset", "--orders", "5"],
      ["demo", "--orders", "5", "--tenant", "another"],
      ["serve", "--port", "0"],
      // Every later data-changing command: settlement, reconciliation, audit,
      // backup and restore, reports (saved reports and their runs are recorded).
      args(["settle", "--tenant", "TENANT"]),
      args([
        "reconcile",
        "import",
        "--tenant",
        "TENANT",
        "--provider",
        "wechat",
        "--file",
        join(dir, "bill.csv"),
      ]),
      args(["audit", "claim", "--tenant", "TENANT", "--case", "c-1", "--user", "u-1"]),
      args(["audit", "list", "--tenant", "TENANT"]),
      ["backup", "--out", join(tmpdir(), "clearsplit-owner-backup.tar")],
      ["restore", join(tmpdir(), "clearsplit-owner-backup.tar")],
      args(["report", "list", "--tenant", "TENANT"]),
      args(["policy", "simulate", "p-1", "--tenant", "TENANT", "--from", "2026-01-01", "--to", "2026-01-02"]),
    ];
    const results = await Promise.all(commands.map((command) => cli(command)));
    results.forEach((result, index) => {
      expect(result.code, `${commands[index]!.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`pid ${server.pid}`);
      expect(result.stderr).toContain(url);
      expect(result.stdout).toBe("");
    });
    // The server kept its directory (demo --reset deleted nothing) and still answers.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await stop(server);
    expect(existsSync(join(dir, lock_file_name))).toBe(false);
    expect(await counts()).toEqual({ keys: 0, users: 0 });
    // With the server gone, the same command works and writes.
    const created = await cli(args(key_args));
    expect(created.code, created.stderr).toBe(0);
    expect(await counts()).toEqual({ keys: 1, users: 0 });
  }, 180_000);
});

describe.runIf(!on_postgres)("with an API key the CLI goes through the owning server (issue 19)", () => {
  it("creates, lists and revokes keys and users through the API, and the server sees each at once", async () => {
    const db = await openDatabase({ data_dir: dir });
    const admin = await createApiKey({ db, now: () => new Date() }, tenant, {
      name: "operator",
      role: "platform_admin",
      party_id: null,
      expires_at: null,
    });
    await db.close();
    ({ child: server, url } = await startServer());
    const before = (await fetch(`${url}/v1/users`, { headers: { authorization: `Bearer ${admin.key}` } }))
      .status;
    expect(before).toBe(200);
    const as_admin = { CLEARSPLIT_KEY: admin.key };

    const created = await cli(args(key_args), as_admin);
    expect(created.code, created.stderr).toBe(0);
    const key = /key:\s+(\S+)/.exec(created.stdout)![1]!;
    const key_id = /id:\s+(\S+)/.exec(created.stdout)![1]!;
    // The server accepts the new key at once: it wrote it itself.
    expect(
      (await fetch(`${url}/v1/parties/m-1`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
    expect((await cli(args(["keys", "list", "--tenant", "TENANT", "--json"]), as_admin)).stdout).toContain(
      key_id,
    );
    expect((await cli(args(["keys", "revoke", "--tenant", "TENANT", "--id", key_id]), as_admin)).code).toBe(
      0,
    );
    expect(
      (await fetch(`${url}/v1/parties/m-1`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(401);

    const user = await cli(
      args(["users", "create", "--tenant", "TENANT", "--role", "finance", "--email", "fin@example.com"]),
      as_admin,
    );
    expect(user.code, user.stderr).toBe(0);
    const password = /password:\s+(\S+)/.exec(user.stdout)![1]!;
    const login = await fetch(`${url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: tenant, login: "fin@example.com", password }),
    });
    expect(login.status).toBe(200);
    expect((await cli(args(["users", "list", "--tenant", "TENANT"]), as_admin)).stdout).toContain(
      "fin@example.com",
    );

    // A settlement run goes through the API too; what reads the database itself (--out) says so and runs nothing.
    const settled = await cli(args(["settle", "--tenant", "TENANT", "--json"]), as_admin);
    expect(settled.code, settled.stderr).toBe(0);
    const run_id = (JSON.parse(settled.stdout) as { run_id: string }).run_id;
    const runs = await fetch(`${url}/v1/settlements/runs`, {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    expect(((await runs.json()) as { items: { id: string }[] }).items.map((run) => run.id)).toContain(run_id);
    expect((await cli(args(["settle", "--tenant", "TENANT", "--out", dir]), as_admin)).code).toBe(2);

    // A bill import streams the file to the server's upload route; the same file again is its replay.
    const bill = join(process.cwd(), "test/bills/wechat-v3.csv");
    const imported = await cli(
      args(["reconcile", "import", "--tenant", "TENANT", "--provider", "wechat", "--file", bill, "--json"]),
      as_admin,
    );
    expect(imported.code, imported.stderr).toBe(0);
    const import_id = (JSON.parse(imported.stdout) as { import_id: string }).import_id;
    const again = await cli(
      args(["reconcile", "import", "--tenant", "TENANT", "--provider", "wechat", "--file", bill, "--json"]),
      as_admin,
    );
    expect((JSON.parse(again.stdout) as { import_id: string }).import_id).toBe(import_id);
    const listed = await fetch(`${url}/v1/reconciliation/imports/${import_id}`, {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    expect(listed.status).toBe(200);

    // An API error is the CLI's plain message and exit 1; another tenant's name is refused; a bad key writes nothing.
    const bad = await cli(
      args(["keys", "create", "--tenant", "TENANT", "--name", "x", "--role", "merchant"]),
      as_admin,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("party_id");
    const foreign = await cli(["keys", "list", "--tenant", "someone-else"], as_admin);
    expect(foreign.code).toBe(2);
    const wrong = await cli(args(key_args), { CLEARSPLIT_KEY: "cs_live_nope_nope" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("CLEARSPLIT_KEY");
    await stop(server);
    // The operator's key, the first key (made directly while no server ran), the one made and revoked through the API.
    expect(await counts()).toEqual({ keys: 3, users: 1 });
  }, 180_000);
});

describe.runIf(on_postgres)("on PostgreSQL the CLI and the server share the database", () => {
  it("creates a key from the CLI while the server runs, and the server accepts it at once", async () => {
    const created = await cli(args(key_args));
    expect(created.code, created.stderr).toBe(0);
    const key = /key:\s+(\S+)/.exec(created.stdout)![1]!;
    const response = await fetch(`${url}/v1/parties/m-1`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const user = await cli(args(["users", "create", "--tenant", "TENANT", "--role", "finance"]));
    expect(user.code, user.stderr).toBe(0);
    expect(await counts()).toEqual({ keys: 1, users: 1 });
  }, 180_000);
});
