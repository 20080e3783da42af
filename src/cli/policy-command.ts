import { parseArgs } from "node:util";
import { isDomainError } from "../core/errors.ts";
import { type ServiceContext, systemClock } from "../service/context.ts";
import { langOf } from "../service/reports/catalog.ts";
import { formatOf } from "../service/reports/render/index.ts";
import { simulatePolicy } from "../service/reports/simulate.ts";
import { openDatabase } from "../store/open.ts";
import { writeDocument } from "./report-command.ts";

// `clearsplit policy simulate ID --tenant T --from DAY --to DAY …`: what a
// (draft) policy would have paid each party over a past period, read-only.

export const usage = `usage:
  clearsplit policy simulate POLICY_ID --tenant T --from DAY --to DAY [--merchant M] [--currency C]
                             [--format json|csv|xlsx|pdf] [--lang en|zh-CN|zh-TW] [--out FILE]
`;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (error) {
    process.stderr.write(`clearsplit policy: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  return simulate(action, parsed);
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      merchant: { type: "string" },
      currency: { type: "string" },
      format: { type: "string" },
      lang: { type: "string" },
      out: { type: "string" },
    },
  });
}

async function simulate(action: string | undefined, parsed: ReturnType<typeof parse>): Promise<number> {
  const { values, positionals } = parsed;
  if (action !== "simulate" || positionals.length !== 1 || values.tenant === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  const db = await openDatabase();
  const ctx: ServiceContext = { db, now: systemClock };
  try {
    const format = formatOf(values.format);
    const document = await simulatePolicy(
      ctx,
      { tenant_id: values.tenant, party_id: null },
      positionals[0]!,
      { from: values.from, to: values.to, merchant_id: values.merchant, currency: values.currency },
      langOf(values.lang),
    );
    await writeDocument(document, format, values.out, false);
    return 0;
  } catch (error) {
    if (isDomainError(error)) {
      process.stderr.write(`clearsplit policy: ${error.message} (${error.code})\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}
