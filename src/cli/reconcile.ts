import { createReadStream, readFileSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { errorFromResponse } from "../client/problem-error.ts";
import { isDomainError } from "../core/errors.ts";
import { systemClock } from "../service/context.ts";
import { importBill } from "../service/reconcile/import.ts";
import { readBill } from "../service/reconcile/read-bill.ts";
import { openDatabase } from "../store/open.ts";
import { type RemoteServer, remoteServer, throughServer } from "./remote.ts";

export const usage = `usage: clearsplit reconcile import --tenant T --provider P --file F [--mapping M] [--tolerance-minor N] [--dry-run] [--json]

Imports a payment provider's bill and reconciles it against the ledger.
  --provider P        wechat | wechat-fund | alipay | stripe | adyen | generic
  --file F            the bill as downloaded (GBK or UTF-8; detected)
  --mapping M         for generic: a JSON column mapping (docs/settlement.md)
  --tolerance-minor N amounts within N minor units match (default 0)
  --date-tolerance-ms N  a row found by order id must be within N ms of the ledger's time, and the
                     bill's window shifts back by N (default 7200000: two hours)
  --dry-run           parse and check only; write nothing
  --json              print one JSON object
Exit status: 0 every row parsed, 1 some rows rejected, 2 the file cannot be used.
`;

function parseCli(args: string[]) {
  return parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      provider: { type: "string" },
      file: { type: "string" },
      mapping: { type: "string" },
      "tolerance-minor": { type: "string" },
      "date-tolerance-ms": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h") {
    process.stdout.write(usage);
    return 0;
  }
  if (sub !== "import") {
    process.stderr.write(`clearsplit reconcile: unknown subcommand ${JSON.stringify(sub ?? "")}\n${usage}`);
    return 2;
  }
  let values: ReturnType<typeof parseCli>;
  try {
    values = parseCli(rest);
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (values.provider === undefined || values.file === undefined)
      throw new Error("--provider and --file are required");
    if (!values["dry-run"] && values.tenant === undefined)
      throw new Error("--tenant is required (or --dry-run)");
    if (values["date-tolerance-ms"] !== undefined && !/^\d{1,9}$/.test(values["date-tolerance-ms"]))
      throw new Error("--date-tolerance-ms must be a whole number of milliseconds");
    if (values["tolerance-minor"] !== undefined && !/^\d{1,12}$/.test(values["tolerance-minor"]))
      throw new Error("--tolerance-minor must be a whole number of minor units");
  } catch (error) {
    process.stderr.write(
      `clearsplit reconcile: ${error instanceof Error ? error.message : String(error)}\n${usage}`,
    );
    return 2;
  }
  // A dry run only reads the file; an import writes, so it goes through the
  // server that owns the embedded database when there is one (docs/client.md).
  const remote = values["dry-run"] ? null : await remoteServer();
  if (remote !== null) return importThroughServer(remote, values);
  const bar = new SingleBar({
    format: "reading bill [{bar}] {percentage}% | {value}/{total} bytes | {duration}s",
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  const on_progress = (done: number, total: number) => {
    if (!process.stderr.isTTY) return;
    if (!started) {
      bar.start(total, 0);
      started = true;
    }
    bar.update(done);
  };
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    const mapping = values.mapping === undefined ? undefined : readFileSync(values.mapping, "utf8");
    let output: Record<string, unknown>;
    let rejected: number;
    if (values["dry-run"]) {
      const report = await readBill(values.file, { provider: values.provider, mapping, on_progress });
      output = { ...report };
      rejected = report.rows_rejected.length;
    } else {
      db = await openDatabase();
      const result = await importBill({ db, now: systemClock }, values.tenant!, {
        provider: values.provider,
        path: values.file,
        mapping,
        tolerance_minor: BigInt(values["tolerance-minor"] ?? "0"),
        date_tolerance_ms:
          values["date-tolerance-ms"] === undefined ? undefined : Number(values["date-tolerance-ms"]),
        on_progress,
      });
      output = result as unknown as Record<string, unknown>;
      rejected = result.report.rows_rejected.length;
    }
    if (started) bar.stop();
    if (values.json) process.stdout.write(`${JSON.stringify(output)}\n`);
    else process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return rejected > 0 ? 1 : 0;
  } catch (error) {
    if (started) bar.stop();
    if (isDomainError(error) || (error as NodeJS.ErrnoException).code === "ENOENT") {
      process.stderr.write(`clearsplit reconcile: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await db?.close();
  }
}

/** Uploads the bill to the owning server's import route, streamed; the same file twice is a replay there too. */
async function importThroughServer(
  remote: RemoteServer,
  values: ReturnType<typeof parseCli>,
): Promise<number> {
  let mapping: string | undefined;
  try {
    statSync(values.file!);
    mapping = values.mapping === undefined ? undefined : readFileSync(values.mapping, "utf8");
  } catch (error) {
    process.stderr.write(`clearsplit reconcile: ${(error as Error).message}\n`);
    return 2;
  }
  const query = new URLSearchParams({ provider: values.provider! });
  if (values["tolerance-minor"] !== undefined) query.set("tolerance_minor", values["tolerance-minor"]);
  if (values["date-tolerance-ms"] !== undefined) query.set("date_tolerance_ms", values["date-tolerance-ms"]);
  if (mapping !== undefined) query.set("mapping", mapping);
  let rejected = 0;
  const code = await throughServer("clearsplit reconcile", remote, values.tenant!, async () => {
    const response = await fetch(`${remote.url}/v1/reconciliation/imports?${query}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${process.env.CLEARSPLIT_KEY}`,
        "content-type": "application/octet-stream",
      },
      // Streamed, so a bill of any size stays in bounded memory here as on the server.
      body: Readable.toWeb(createReadStream(values.file!)) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    const answer = (await response.json()) as Record<string, unknown> & {
      report?: { rows_rejected?: unknown[] };
    };
    if (!response.ok) throw errorFromResponse(response.status, answer, 1);
    rejected = answer.report?.rows_rejected?.length ?? 0;
    process.stdout.write(
      values.json ? `${JSON.stringify(answer)}\n` : `${JSON.stringify(answer, null, 2)}\n`,
    );
  });
  return code !== 0 ? code : rejected > 0 ? 1 : 0;
}
