import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { errorFromResponse } from "../client/problem-error.ts";
import { isDomainError } from "../core/errors.ts";
import { formatDecimal } from "../core/money.ts";
import { systemClock } from "../service/context.ts";
import { payoutFileOfRun } from "../service/settlement/payout-file-export.ts";
import { importPayoutResults } from "../service/settlement/payout-results.ts";
import { runSettlement, runSummaryJson } from "../service/settlement/settlement-run.ts";
import { openDatabase } from "../store/open.ts";
import { tenantExists } from "../store/tenants-sql.ts";
import { type RemoteServer, remoteServer, throughServer } from "./remote.ts";

export const usage = `usage: clearsplit settle --tenant T [--as-of DATE] [--party ID ...] [--out DIR] [--json]

Pays every party whose cycle is due on the day of --as-of (default: now):
released funds only, debt netted first, available -> in transit, one payout
per party and cycle. Running it again pays nobody twice.
  --tenant T     the marketplace
  --as-of DATE   the run's instant or day (2026-11-30 or 2026-11-30T06:00:00Z); not in the future
  --party ID     settle only these parties (repeatable); due even on a manual cycle
  --out DIR      write the payout file (CSV, bank-transfer JSON, .sha256) into DIR
  --results FILE instead of running: apply the bank's result file (reference,status,reason[,provider_reference])
  --json         print the run as JSON
`;

class UsageError extends Error {}

function parseAsOf(text: string | undefined, now: Date): Date | undefined {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    // A day: the run happens at that day's end, or now if the day is today.
    const end = new Date(`${text}T23:59:59.999Z`);
    if (Number.isNaN(end.getTime())) throw new UsageError(`--as-of ${text} is not a date`);
    return end.getTime() > now.getTime() ? now : end;
  }
  const instant = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(instant.getTime()))
    throw new UsageError(`--as-of ${text} is neither a date nor an ISO 8601 instant`);
  return instant;
}

function parseCli(args: string[]) {
  return parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      "as-of": { type: "string" },
      party: { type: "string", multiple: true },
      out: { type: "string" },
      results: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

export async function run(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseCli>;
  try {
    values = parseCli(argv);
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (values.tenant === undefined) throw new UsageError("--tenant is required");
  } catch (error) {
    process.stderr.write(
      `clearsplit settle: ${error instanceof Error ? error.message : String(error)}\n${usage}`,
    );
    return 2;
  }
  const remote = await remoteServer();
  if (remote !== null) return settleThroughServer(remote, values);
  const db = await openDatabase();
  const ctx = { db, now: systemClock };
  const bar = new SingleBar({
    format: "settling [{bar}] {percentage}% | {value}/{total} parties | {duration}s",
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  try {
    if (!(await tenantExists(db, values.tenant)))
      throw new UsageError(`no tenant ${JSON.stringify(values.tenant)}`);
    if (values.results !== undefined) {
      const applied = await importPayoutResults(ctx, values.tenant, values.results);
      process.stdout.write(`${JSON.stringify(applied)}\n`);
      return applied.rejected.length > 0 ? 1 : 0;
    }
    const result = await runSettlement(ctx, values.tenant, {
      as_of: parseAsOf(values["as-of"], ctx.now()),
      trigger: "cli",
      party_ids: values.party,
      after_party: (_outcome, index, total) => {
        if (values.json || !process.stderr.isTTY) return;
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(index + 1);
      },
    });
    if (started) bar.stop();
    if (values.out !== undefined) {
      const file = await payoutFileOfRun(db, values.tenant, result.run_id, ctx.now());
      const dir = resolve(values.out);
      mkdirSync(dir, { recursive: true });
      const base = join(dir, `payouts-${values.tenant}-${file.run_date}`);
      writeFileSync(`${base}.csv`, file.csv);
      writeFileSync(
        `${base}.csv.sha256`,
        `${file.csv_sha256}  payouts-${values.tenant}-${file.run_date}.csv\n`,
      );
      writeFileSync(`${base}.json`, `${JSON.stringify(file.json, null, 2)}\n`);
      if (!values.json) process.stderr.write(`payout file: ${base}.csv, ${base}.json\n`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify(runSummaryJson(result))}\n`);
    else {
      process.stdout.write(
        `run ${result.run_id} for ${result.run_date}: ${result.parties_due} parties due, ${result.paid.length} paid, ` +
          `${result.carried_over.length} carried over or netted, ${result.replayed.length} already paid this cycle, ${result.held_by_case.length} held by an audit case\n`,
      );
      for (const [currency, total] of Object.entries(result.totals))
        process.stdout.write(
          `  ${currency} ${formatDecimal(total.amount_minor, currency)} in ${total.payouts} payouts (netted ${formatDecimal(total.netted_minor, currency)})\n`,
        );
    }
    return 0;
  } catch (error) {
    if (started) bar.stop();
    if (error instanceof UsageError || isDomainError(error)) {
      process.stderr.write(`clearsplit settle: ${error.message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}

/** A settlement run through the owning server's API (docs/client.md): the same run, the same idempotency per party and cycle. */
async function settleThroughServer(
  remote: RemoteServer,
  values: ReturnType<typeof parseCli>,
): Promise<number> {
  if (values.out !== undefined || values.results !== undefined) {
    process.stderr.write(
      `clearsplit settle: --out and --results read the database directly; through the server at ${remote.url} ` +
        "fetch the payout file and post results with the API (docs/settlement.md). Nothing was run.\n",
    );
    return 2;
  }
  let as_of: Date | undefined;
  try {
    as_of = parseAsOf(values["as-of"], new Date());
  } catch (error) {
    process.stderr.write(`clearsplit settle: ${(error as Error).message}\n`);
    return 2;
  }
  return throughServer("clearsplit settle", remote, values.tenant!, async (client) => {
    const { data, error, response } = await client.api.POST("/v1/settlements/runs", {
      body: {
        ...(as_of === undefined ? {} : { as_of: as_of.toISOString() }),
        ...(values.party === undefined ? {} : { party_ids: values.party }),
      },
    });
    if (error !== undefined || !response.ok) throw errorFromResponse(response.status, error, 1);
    const run = data as unknown as {
      run_id: string;
      run_date: string;
      parties_due: number;
      paid: unknown[];
      carried_over: unknown[];
      replayed: unknown[];
      held_by_case?: unknown[];
    };
    if (values.json) process.stdout.write(`${JSON.stringify(run)}\n`);
    else
      process.stdout.write(
        `run ${run.run_id} for ${run.run_date}: ${run.parties_due} parties due, ${run.paid.length} paid, ` +
          `${run.carried_over.length} carried over or netted, ${run.replayed.length} already paid this cycle, ${run.held_by_case?.length ?? 0} held by an audit case\n`,
      );
  });
}
