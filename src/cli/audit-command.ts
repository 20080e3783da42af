import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { isDomainError } from "../core/errors.ts";
import { isUuid } from "../core/ids.ts";
import type { Actor } from "../service/audit/actor.ts";
import { backtestConfig } from "../service/audit/backtest.ts";
import { type CaseFilters, claimCase, getCase, listCases } from "../service/audit/cases.ts";
import { decideCase } from "../service/audit/decide-case.ts";
import { findUserById } from "../service/auth/users.ts";
import { systemClock } from "../service/context.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";

export const usage = `usage:
  clearsplit audit list     --tenant T [--state S] [--rule R] [--party P] [--limit N] [--json]
  clearsplit audit show     --tenant T --case ID [--json]
  clearsplit audit claim    --tenant T --case ID --user USER_ID
  clearsplit audit decide   --tenant T --case ID --user USER_ID --decision approve|reverse|adjust|reject
                            --reason TEXT [--entries JSON]
  clearsplit audit backtest --tenant T --config ID --from ISO --to ISO [--orders-max N] [--json]

The review queue from the command line (docs/audit.md). Claims and decisions
act as the user given by --user (its role and its person for the four-eyes
rule), through the same service path as the API. States: any_open, open,
claimed, awaiting_second_approval, rejected, approved, reversed, adjusted.
`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      tenant: { type: "string" },
      case: { type: "string" },
      config: { type: "string" },
      user: { type: "string" },
      state: { type: "string" },
      rule: { type: "string" },
      party: { type: "string" },
      limit: { type: "string" },
      decision: { type: "string" },
      reason: { type: "string" },
      entries: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      "orders-max": { type: "string" },
      json: { type: "boolean" },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let values: Values;
  try {
    values = parse(rest).values;
  } catch (error) {
    process.stderr.write(`clearsplit audit: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (!["list", "show", "claim", "decide", "backtest"].includes(action ?? "")) {
    process.stderr.write(usage);
    return 2;
  }
  if (!values.tenant) {
    process.stderr.write(`clearsplit audit: --tenant is required\n${usage}`);
    return 2;
  }
  const db = await openDatabase();
  try {
    return await dispatch(db, action!, values.tenant, values);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`clearsplit audit ${action}: ${error.message}\n${usage}`);
      return 2;
    }
    if (!isDomainError(error)) throw error;
    process.stderr.write(`clearsplit audit ${action}: ${error.code}: ${error.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

async function dispatch(db: Database, action: string, tenant: string, values: Values): Promise<number> {
  const ctx = { db, now: systemClock };
  const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, jsonBigint, 2)}\n`);
  if (action === "list") {
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    const page = await listCases(db, tenant, {
      state: values.state as CaseFilters["state"],
      rule_id: values.rule,
      party_id: values.party,
      limit,
    });
    if (values.json) out(page);
    else
      for (const item of page.items)
        process.stdout.write(
          `${item.id}  ${item.state.padEnd(24)} ${String(item.amount_minor).padStart(12)} ${item.currency}  ${(item.order_id ?? `party ${item.party_id}`).padEnd(24)} ${item.rule_ids.join(",")}\n`,
        );
    return 0;
  }
  if (action === "backtest") {
    if (!values.config || !values.from || !values.to)
      throw new UsageError("--config, --from and --to are required");
    const from = new Date(values.from);
    const to = new Date(values.to);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
      throw new UsageError("--from and --to must be ISO 8601 instants");
    const report = await backtestConfig(db, tenant, values.config, {
      from,
      to,
      orders_max: values["orders-max"] === undefined ? undefined : Number(values["orders-max"]),
    });
    if (values.json) out(report);
    else {
      process.stdout.write(
        `config ${report.config_hash.slice(0, 16)}…: ${report.orders_evaluated} orders, ${report.refunds_evaluated} refunds${report.truncated ? " (truncated)" : ""}\n`,
      );
      for (const rule of report.rules)
        process.stdout.write(`  ${rule.rule_id.padEnd(28)} ${rule.hits} hits\n`);
    }
    return 0;
  }
  if (!values.case) throw new UsageError("--case is required");
  if (action === "show") {
    out(await getCase(db, { tenant_id: tenant, party_id: null }, values.case));
    return 0;
  }
  const actor = await actorOfUser(db, tenant, values.user);
  if (action === "claim") {
    out(await claimCase(ctx, tenant, values.case, actor));
    return 0;
  }
  if (!values.decision || !values.reason) throw new UsageError("--decision and --reason are required");
  let entries: unknown;
  if (values.entries !== undefined) {
    try {
      entries = JSON.parse(values.entries);
    } catch {
      throw new UsageError("--entries must be a JSON array");
    }
  }
  const result = await decideCase(
    ctx,
    tenant,
    values.case,
    { decision: values.decision as "approve", reason: values.reason, entries },
    actor,
  );
  out(result);
  return 0;
}

/** The CLI acts as a named user: their role decides what they may do, their person counts for four eyes. */
async function actorOfUser(db: Database, tenant: string, user_id: string | undefined): Promise<Actor> {
  if (!user_id) throw new UsageError("--user is required: decisions are made by a person");
  const user = isUuid(user_id) ? await findUserById(db, tenant, user_id) : undefined;
  if (user === undefined || user.disabled_at !== null) throw new UsageError(`no active user ${user_id}`);
  return { actor: `cli:${userInfo().username}:user:${user.id}`, person: `user:${user.id}`, role: user.role };
}

function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
