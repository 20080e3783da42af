import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import example_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import policy_json from "../../examples/policies/b2b2c.json" with { type: "json" };
import { bookOrders } from "../service/orders/book.ts";
import { createPolicyDraft } from "../service/policies.ts";
import { parseCsv } from "../service/reports/render/csv.ts";
import { openDatabase } from "../store/open.ts";
import { newTestTenant } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { run as policy } from "./policy-command.ts";
import { run as report } from "./report-command.ts";

// The report CLIs open the configured database themselves: a PGlite directory
// here, or DATABASE_URL's PostgreSQL.

const dir = mkdtempSync(join(tmpdir(), "clearsplit-report-cli-"));
let tenant: string;
let draft_id: string;
const saved = process.env.CLEARSPLIT_DATA_DIR;

beforeAll(async () => {
  process.env.CLEARSPLIT_DATA_DIR = dir;
  const db = await openDatabase();
  const ctx = { db, now: () => new Date("2026-11-26T10:00:00Z") };
  tenant = await newTestTenant(ctx, "rcli");
  await seedExampleMarketplace(ctx, tenant);
  await bookOrders(ctx, tenant, [example_order]);
  draft_id = (await createPolicyDraft(ctx, tenant, { name: "same again", body: policy_json })).id;
  await db.close();
}, 180_000);
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

describe("clearsplit report and policy simulate", () => {
  it("runs a statement as JSON and a split detail as CSV to a file, scoped with --as-party", async () => {
    const statement = await capture(() =>
      report([
        "run",
        "statement",
        "--tenant",
        tenant,
        "--party",
        "m-1001",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
      ]),
    );
    expect(statement.code, statement.err).toBe(0);
    const body = JSON.parse(statement.out);
    expect(body).toMatchObject({ party_id: "m-1001", currency: "CNY", opening_minor: 0 });
    expect(body.closing_minor).toBeGreaterThan(0);
    const out = join(dir, "legs.csv");
    const csv = await capture(() =>
      report([
        "run",
        "split_detail",
        "--tenant",
        tenant,
        "--order",
        example_order.id,
        "--format",
        "csv",
        "--as-party",
        "s-9",
        "--out",
        out,
      ]),
    );
    expect(csv.code, csv.err).toBe(0);
    const rows = parseCsv(readFileSync(out, "utf8"));
    expect(rows.length).toBeGreaterThan(1);
    const party = rows[0]!.indexOf("party_id");
    expect(new Set(rows.slice(1).map((row) => row[party]))).toEqual(new Set(["s-9"]));
  });

  it("exits non-zero with a plain message on bad input", async () => {
    const unknown = await capture(() => report(["run", "balance-sheet", "--tenant", tenant]));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("no report");
    const backwards = await capture(() =>
      report([
        "run",
        "statement",
        "--tenant",
        tenant,
        "--party",
        "m-1001",
        "--from",
        "2026-12-01",
        "--to",
        "2026-11-01",
      ]),
    );
    expect(backwards.code).toBe(1);
    expect(backwards.err).toContain("must be after from");
    const other = await capture(() =>
      report([
        "run",
        "statement",
        "--tenant",
        tenant,
        "--party",
        "m-2002",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--as-party",
        "m-1001",
      ]),
    );
    expect(other.code).toBe(1);
    expect(other.err).toContain("party_not_found");
    expect((await capture(() => report(["run", "statement"]))).code).toBe(2);
  });

  it("simulates a draft policy: the same rules give zero difference everywhere", async () => {
    const result = await capture(() =>
      policy(["simulate", draft_id, "--tenant", tenant, "--from", "2026-11-01", "--to", "2026-12-01"]),
    );
    expect(result.code, result.err).toBe(0);
    const body = JSON.parse(result.out);
    expect(body.orders).toBe(1);
    expect(body.items.length).toBeGreaterThan(3);
    for (const item of body.items) expect(item.difference_minor).toBe(0);
  });
});
