import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Runs the real command on every example, the way a merchant would. It starts
// node with tsx's loader directly (what `npx tsx` does, without npx's start-up
// cost), a few processes at a time so the suite stays fast on two cores.
const run = promisify(execFile);
const orders = readdirSync("examples/orders").filter(
  (name) => name.endsWith(".json") && !name.includes(".refunds."),
);

function policyFor(order: string): string {
  if (order.startsWith("simple-")) return "examples/policies/simple-marketplace.json";
  if (order.startsWith("tiered-")) return "examples/policies/tiered-commission.json";
  return "examples/policies/b2b2c.json";
}

async function split(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "split",
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("clearsplit split", () => {
  it("splits every example order, as a table and as JSON that sums to the amount paid", async () => {
    expect(orders.length).toBeGreaterThanOrEqual(6);
    const results = await Promise.all(
      orders.map(async (order) => {
        const args = [
          "--policy",
          policyFor(order),
          "--order",
          `examples/orders/${order}`,
          "--gmv-30d",
          "250000000",
        ];
        return { order, table: await split(args), json: await split([...args, "--json"]) };
      }),
    );
    for (const { order, table, json } of results) {
      expect(table.code, `${order}: ${table.stderr}`).toBe(0);
      expect(table.stdout).toMatch(/remainder|merchant/);
      const allocation = JSON.parse(json.stdout) as { paid_minor: number; legs: { amount_minor: number }[] };
      expect(
        allocation.legs.reduce((sum, leg) => sum + leg.amount_minor, 0),
        order,
      ).toBe(allocation.paid_minor);
    }
  });

  it("prints reversal legs for a refund file", async () => {
    const result = await split([
      "--policy",
      "examples/policies/b2b2c.json",
      "--order",
      "examples/orders/b2b2c-issue-example.json",
      "--refund",
      "examples/orders/b2b2c-issue-example.refunds.json",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as {
      reversals: { refund_minor: number; legs: { amount_minor: number }[] }[];
    };
    expect(output.reversals.map((reversal) => reversal.refund_minor)).toEqual([19791, 50000]);
    for (const reversal of output.reversals) {
      expect(reversal.legs.reduce((sum, leg) => sum + leg.amount_minor, 0)).toBe(reversal.refund_minor);
    }
  });

  it("reports bad input as one plain line and a non-zero exit, never a stack trace", async () => {
    const bad = await split([
      "--policy",
      "examples/policies/simple-marketplace.json",
      "--order",
      "examples/orders/b2b2c-issue-example.json",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/lines\[0\]\.supplier_id .* no supplier_cost rule \[policy_rule_missing\]/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const [missing, usage, tiers] = await Promise.all([
      split(["--policy", "nope.json", "--order", "examples/orders/simple-one-line.json"]),
      split(["--order", "x"]),
      split([
        "--policy",
        "examples/policies/tiered-commission.json",
        "--order",
        "examples/orders/tiered-platform-fee.json",
      ]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read nope.json: ENOENT/);
    expect(usage.code).toBe(2);
    expect(tiers.stderr).toMatch(/pass --gmv-30d/);
  });
});
