import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isDomainError } from "../core/errors.ts";
import { formatDecimal } from "../core/money.ts";
import {
  type Allocation,
  allocate,
  allocationToJson,
  type Leg,
  loadPolicy,
  parseOrder,
  parseRefund,
  type Refund,
  type Reversal,
  reversalToJson,
  reverse,
} from "../core/split/index.ts";

export const usage = `usage: clearsplit split --policy FILE --order FILE [--refund FILE] [--gmv-30d MINOR] [--json]

Splits an order under a policy and prints every leg with its explanation.
  --policy FILE    a split policy (examples/policies/*.json)
  --order FILE     an order as the mall sends it (examples/orders/*.json)
  --refund FILE    a refund, or an array of refunds applied in turn; prints the reversal legs
  --gmv-30d MINOR  the merchant's trailing-30-day GMV in minor units, for tiered commissions
  --json           print the allocation (and reversals) as JSON instead of a table
`;

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        policy: { type: "string" },
        order: { type: "string" },
        refund: { type: "string" },
        "gmv-30d": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (values.policy === undefined || values.order === undefined)
      throw new UsageError("--policy and --order are required");
    const { policy, policy_hash } = loadPolicy(readJson(values.policy, "--policy"));
    const order = parseOrder(readJson(values.order, "--order"));
    const gmv = values["gmv-30d"];
    if (gmv !== undefined && !/^\d{1,16}$/.test(gmv))
      throw new UsageError("--gmv-30d must be a whole number of minor units");
    const allocation = allocate(policy, order, {
      policy_hash,
      ...(gmv === undefined ? {} : { merchant_gmv_30d_minor: BigInt(gmv) }),
    });
    const reversals: Reversal[] = [];
    if (values.refund !== undefined) {
      const json = readJson(values.refund, "--refund");
      const refunds: Refund[] = (Array.isArray(json) ? json : [json]).map((item) => parseRefund(item));
      refunds.forEach((refund, index) => {
        reversals.push(reverse(policy, order, allocation, refunds.slice(0, index), refund));
      });
    }
    if (values.json) {
      const output =
        values.refund === undefined
          ? allocationToJson(allocation)
          : { allocation: allocationToJson(allocation), reversals: reversals.map(reversalToJson) };
      process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    } else {
      process.stdout.write(renderAllocation(allocation));
      for (const reversal of reversals) process.stdout.write(renderReversal(reversal));
    }
    return 0;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
    process.stderr.write(`clearsplit split: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (isDomainError(error)) {
    const where = error.field === undefined || error.message.includes(error.field) ? "" : `${error.field}: `;
    const hint = error.code === "context_gmv_missing" ? " (pass --gmv-30d MINOR)" : "";
    process.stderr.write(`clearsplit split: ${where}${error.message}${hint} [${error.code}]\n`);
    return 1;
  }
  process.stderr.write(`clearsplit split: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

function readJson(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${option}: ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function renderLegs(legs: readonly Leg[], currency: string): string {
  const header = ["party", "role", "rule", "line", "amount", "rate", "basis"];
  const rows = legs.map((leg) => [
    leg.party_id,
    leg.role,
    leg.rule_id,
    leg.line_id ?? "",
    formatDecimal(leg.amount_minor, currency),
    leg.rate_bp === undefined ? "" : `${leg.rate_bp} bp`,
    formatDecimal(leg.basis_minor, currency),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const right = new Set([4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        right.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join("  ");
  const out = [line(header), widths.map((width) => "-".repeat(width)).join("  ")];
  rows.forEach((row, index) => {
    out.push(line(row));
    out.push(`    ${legs[index]!.note}`);
  });
  return `${out.join("\n")}\n`;
}

function renderAllocation(allocation: Allocation): string {
  const parts = [
    `order ${allocation.order_id}: ${formatDecimal(allocation.paid_minor, allocation.currency)} ${allocation.currency} paid`,
    `policy ${allocation.policy_hash}`,
    "",
    renderLegs(allocation.legs, allocation.currency),
    ...allocation.explanation.map((text) => `* ${text}`),
  ];
  if (allocation.flags.length > 0) parts.push(`flags: ${allocation.flags.join(", ")}`);
  return `${parts.join("\n")}\n`;
}

function renderReversal(reversal: Reversal): string {
  const parts = [
    "",
    `refund ${reversal.refund_id}: ${formatDecimal(reversal.refund_minor, reversal.currency)} ${reversal.currency} back to the buyer`,
    "",
    renderLegs(reversal.legs, reversal.currency),
    ...reversal.explanation.map((text) => `* ${text}`),
  ];
  return `${parts.join("\n")}\n`;
}
