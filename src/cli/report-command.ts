import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { parseArgs } from "node:util";
import type { ReadScope } from "../core/auth/scope.ts";
import { isDomainError } from "../core/errors.ts";
import { toJsonText } from "../core/json.ts";
import type { ReportDocument } from "../core/reports/document.ts";
import { parseDay } from "../core/reports/period.ts";
import { type ServiceContext, systemClock } from "../service/context.ts";
import { langOf, reportNameOf, runReport } from "../service/reports/catalog.ts";
import { assertRenderable, formatOf, renderReport } from "../service/reports/render/index.ts";
import { listSavedReports, runSavedReport } from "../service/reports/saved.ts";
import { openDatabase } from "../store/open.ts";

// `clearsplit report run REPORT …`, `clearsplit report saved ID …`,
// `clearsplit report list …`: the API's reports from the command line, run
// as the platform (the operator's view) or, with --as-party, as that party
// would see them. Files go to --out, or stdout.

export const usage = `usage:
  clearsplit report run REPORT --tenant T [--party P] [--from DAY --to DAY] [--currency C] [--order ID]
                        [--format json|csv|xlsx|pdf] [--lang en|zh-CN|zh-TW] [--bom] [--as-party P] [--out FILE]
  clearsplit report saved ID --tenant T [--from DAY --to DAY] [--format F] [--lang L] [--as-party P] [--out FILE]
  clearsplit report list --tenant T [--as-party P]

Reports: statement, platform_revenue, split_detail, settlement_status. Periods are [from, to) in whole UTC days.
`;

const options = {
  tenant: { type: "string" },
  party: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  currency: { type: "string" },
  order: { type: "string" },
  format: { type: "string" },
  lang: { type: "string" },
  bom: { type: "boolean", default: false },
  "as-party": { type: "string" },
  out: { type: "string" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`clearsplit report: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (!["run", "saved", "list"].includes(action ?? "") || (action !== "list" && positionals.length !== 1)) {
    process.stderr.write(usage);
    return 2;
  }
  if (values.tenant === undefined) {
    process.stderr.write(`clearsplit report: --tenant is required\n${usage}`);
    return 2;
  }
  const db = await openDatabase();
  const ctx: ServiceContext = { db, now: systemClock };
  const scope: ReadScope = { tenant_id: values.tenant, party_id: values["as-party"] ?? null };
  const caller = { scope, actor: null };
  try {
    if (action === "list") {
      // Every page: the CLI lists them all.
      let cursor: string | undefined;
      do {
        const page = await listSavedReports(ctx, caller, { cursor });
        for (const report of page.items)
          process.stdout.write(
            `${report.id}  ${report.name}  ${report.definition.dataset}  ${report.schedule ?? "-"}\n`,
          );
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return 0;
    }
    const format = formatOf(values.format);
    const document =
      action === "run"
        ? await runReport(ctx, scope, reportNameOf(positionals[0]!), {
            party_id: values.party,
            from: values.from,
            to: values.to,
            currency: values.currency,
            order_id: values.order,
            lang: values.lang,
          })
        : await runSavedReport(ctx, caller, positionals[0]!, {
            lang: langOf(values.lang),
            period:
              values.from === undefined && values.to === undefined
                ? undefined
                : { from: parseDay(values.from, "from"), to: parseDay(values.to, "to") },
          });
    await writeDocument(document, format, values.out, values.bom);
    return 0;
  } catch (error) {
    if (isDomainError(error)) {
      process.stderr.write(
        `clearsplit report: ${error.message} (${error.code}${error.field ? `, ${error.field}` : ""})\n`,
      );
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}

export async function writeDocument(
  document: ReportDocument,
  format: ReturnType<typeof formatOf>,
  out: string | undefined,
  bom: boolean,
): Promise<void> {
  if (format !== "json") assertRenderable(document, format);
  const stream = out === undefined ? process.stdout : createWriteStream(out);
  if (format === "json") stream.write(`${JSON.stringify(JSON.parse(toJsonText(document.json)), null, 2)}\n`);
  else await renderReport(document, format, stream, { bom });
  if (out !== undefined) {
    if (format === "json") stream.end();
    await finished(stream);
    process.stderr.write(`wrote ${out}\n`);
  }
}
