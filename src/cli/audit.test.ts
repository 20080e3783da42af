import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import self_referral_order from "../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import { createAuditConfigDraft, publishAuditConfig } from "../service/audit/configs.ts";
import { createUser } from "../service/auth/users.ts";
import { bookOrders } from "../service/orders/book.ts";
import { openDatabase } from "../store/open.ts";
import { newTestTenant } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { run as audit } from "./audit-command.ts";

// `clearsplit audit` lists, shows, claims and decides through the same
// service path as the API, as a named user, and back-tests a draft; bad
// usage exits 2, a refused decision exits 1 with the problem's code.

const dir = mkdtempSync(join(tmpdir(), "clearsplit-audit-cli-"));
const saved = process.env.CLEARSPLIT_DATA_DIR;
let tenant: string;
let draft_id: string;
const users: string[] = [];

beforeAll(async () => {
  process.env.CLEARSPLIT_DATA_DIR = dir;
  const db = await openDatabase();
  const ctx = { db, now: () => new Date("2026-11-25T11:00:00Z") };
  tenant = await newTestTenant(ctx, "audit-cli");
  await seedExampleMarketplace(ctx, tenant);
  const actor = { actor: "test", person: null, role: "finance" };
  const body = { four_eyes_minor: 10_000, rules: [{ id: "self_referral" }] };
  const draft = await createAuditConfigDraft(ctx, tenant, { name: "cli", body }, actor);
  await publishAuditConfig(ctx, tenant, draft.id, actor);
  draft_id = (
    await createAuditConfigDraft(ctx, tenant, { name: "draft", body: { ...body, rules: [] } }, actor)
  ).id;
  await bookOrders(ctx, tenant, [self_referral_order]);
  for (const email of ["a@example.com", "b@example.com"])
    users.push(
      (
        await createUser(
          ctx,
          tenant,
          { role: "reviewer", email, password: "long enough password" },
          { actor: "t", ip: null },
        )
      ).id,
    );
  await db.close();
});
afterAll(() => {
  if (saved === undefined) delete process.env.CLEARSPLIT_DATA_DIR;
  else process.env.CLEARSPLIT_DATA_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
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
    return { code: await audit(argv), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe("clearsplit audit", () => {
  it("lists, claims and decides with four eyes, and back-tests a draft", async () => {
    const list = await capture(["list", "--tenant", tenant, "--state", "any_open", "--json"]);
    expect(list.code).toBe(0);
    const case_id = JSON.parse(list.out).items[0].id as string;
    const t = ["--tenant", tenant, "--case", case_id];
    expect((await capture(["show", ...t])).out).toContain("self_referral");
    expect((await capture(["claim", ...t, "--user", users[0]!])).code).toBe(0);
    const decide = (user: string) =>
      capture(["decide", ...t, "--user", user, "--decision", "approve", "--reason", "ok"]);
    expect(JSON.parse((await decide(users[0]!)).out).case.state).toBe("awaiting_second_approval");
    const twice = await decide(users[0]!);
    expect(twice.code).toBe(1);
    expect(twice.err).toContain("four_eyes_same_person");
    expect(JSON.parse((await decide(users[1]!)).out).case.state).toBe("approved");
    const backtest = await capture([
      "backtest",
      "--tenant",
      tenant,
      "--config",
      draft_id,
      "--from",
      "2026-11-01T00:00:00Z",
      "--to",
      "2026-12-01T00:00:00Z",
      "--json",
    ]);
    expect(backtest.code).toBe(0);
    expect(JSON.parse(backtest.out)).toMatchObject({ orders_evaluated: 1, rules: [] });
  }, 60_000);

  it("exits 2 on bad usage and 1 on an unknown case", async () => {
    expect((await capture(["frobnicate"])).code).toBe(2);
    expect((await capture(["decide", "--tenant", tenant, "--case", "x"])).code).toBe(2);
    const unknown = await capture([
      "show",
      "--tenant",
      tenant,
      "--case",
      "0190a000-0000-7000-8000-000000000000",
    ]);
    expect([unknown.code, unknown.err.includes("case_not_found")]).toEqual([1, true]);
  });
});
