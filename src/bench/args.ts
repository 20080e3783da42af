import { parseArgs } from "node:util";

// `clearsplit bench` options. Bad input is a plain message and exit code 2.
export const scenario_names = [
  "library",
  "batch",
  "batch-audit",
  "single",
  "lifecycle",
  "report",
  "notify",
  "proof",
  "proof-load",
] as const;
export type ScenarioName = (typeof scenario_names)[number];
export type Backend = "pg" | "pglite";

export const seconds_max = 3_600;
export const clients_max = 64;
export const batch_size_min = 100;
export const batch_size_max = 1_000;
/** Most `serve --workers` the bench's server may run (the machine's cores bound what helps). */
export const server_workers_max = 16;

export interface BenchOptions {
  scenarios: ScenarioName[];
  seconds: number;
  backend: Backend;
  json: boolean;
  profile: boolean;
  /** Concurrent HTTP clients of the `single` scenario. */
  clients: number;
  /** Concurrent writers of library, batch and lifecycle; null: the scenario's default. */
  workers: number | null;
  /** Orders per request of `batch` and per call of `library`. */
  batch_size: number;
  seed: number;
  /** Where the HTTP scenarios' server runs: its own process (PostgreSQL only) or the bench's. */
  server: "process" | "inline";
  /** `serve --workers N` of that process; several values run the HTTP scenarios once per value, in order. */
  server_workers: number[];
  database_url: string | undefined;
  /** Postings of the report scenario's account; null: 20,000 per second of --seconds. */
  report_postings: number | null;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export const usage = `usage: clearsplit bench [--scenario NAME]... [--seconds S] [--backend pg|pglite] [--json] [--profile]
                       [--clients N] [--workers N] [--batch-size N] [--seed N] [--server process|inline]
                       [--server-workers N]... [--report-postings N]
  scenarios: ${scenario_names.join(", ")} (default: all; proof runs proof-load too)
  --backend defaults to pg when DATABASE_URL is set (a fresh database is created on that server and dropped after)
  --server defaults to process on pg (clearsplit serve in its own process) and is inline on pglite
  --server-workers N runs that server as \`serve --workers N\` (default 1); given more than once, the HTTP
                     scenarios run once per value, each against a fresh server, in the same run
  --workers N is the concurrent writers of library, batch and lifecycle, not the server's processes`;

function readNumber(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

export function parseBenchArgs(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  let parsed: ReturnType<typeof parseArgsStrict>;
  try {
    parsed = parseArgsStrict(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values;
  const scenarios = (values.scenario ?? []).flatMap((name) => {
    if (!(scenario_names as readonly string[]).includes(name)) {
      throw new UsageError(
        `--scenario must be one of ${scenario_names.join(", ")}, got ${JSON.stringify(name)}`,
      );
    }
    // `proof` is the proof latency at idle and under batch load: both lines.
    return name === "proof" ? (["proof", "proof-load"] as const) : [name as ScenarioName];
  });
  const backend = values.backend ?? (env.DATABASE_URL ? "pg" : "pglite");
  if (backend !== "pg" && backend !== "pglite") {
    throw new UsageError(`--backend must be pg or pglite, got ${JSON.stringify(backend)}`);
  }
  if (backend === "pg" && !env.DATABASE_URL) {
    throw new UsageError(
      "--backend pg needs DATABASE_URL (any database on the server; the bench creates its own)",
    );
  }
  const server = values.server ?? (backend === "pg" ? "process" : "inline");
  if (server !== "process" && server !== "inline") {
    throw new UsageError(`--server must be process or inline, got ${JSON.stringify(server)}`);
  }
  if (server === "process" && backend === "pglite") {
    throw new UsageError("--server process needs --backend pg: PGlite is opened by one process");
  }
  const server_workers = (values["server-workers"] ?? ["1"]).map((value) =>
    Math.floor(readNumber(value, "server-workers", 1, server_workers_max, 1)),
  );
  if (server !== "process" && server_workers.some((count) => count > 1)) {
    throw new UsageError(
      "--server-workers above 1 needs --server process (on --backend pg): the workers share PostgreSQL",
    );
  }
  return {
    scenarios: scenarios.length === 0 ? [...scenario_names] : [...new Set(scenarios)],
    seconds: readNumber(values.seconds, "seconds", 0.5, seconds_max, 10),
    backend,
    json: values.json ?? false,
    profile: values.profile ?? false,
    clients: Math.floor(readNumber(values.clients, "clients", 1, clients_max, 32)),
    workers:
      values.workers === undefined
        ? null
        : Math.floor(readNumber(values.workers, "workers", 1, clients_max, 1)),
    batch_size: Math.floor(
      readNumber(values["batch-size"], "batch-size", batch_size_min, batch_size_max, 500),
    ),
    seed: Math.floor(readNumber(values.seed, "seed", 0, 2 ** 31 - 1, 1)),
    server,
    server_workers: [...new Set(server_workers)],
    database_url: backend === "pg" ? env.DATABASE_URL : undefined,
    report_postings:
      values["report-postings"] === undefined
        ? null
        : Math.floor(readNumber(values["report-postings"], "report-postings", 100, 100_000_000, 0)),
  };
}

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: "string", multiple: true },
      seconds: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean" },
      profile: { type: "boolean" },
      clients: { type: "string" },
      workers: { type: "string" },
      "batch-size": { type: "string" },
      seed: { type: "string" },
      server: { type: "string" },
      "server-workers": { type: "string", multiple: true },
      "report-postings": { type: "string" },
    },
  });
}
