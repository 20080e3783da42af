// One line per command; each module is loaded only when its command runs,
// so `clearsplit verify` never pulls in the server or a database driver.
export interface Command {
  /** The command's usage and options, printed by `--help` / `-h` (exit 0). */
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  /** What the command does, in one line, for `clearsplit --help`. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const commands: Record<string, CommandEntry> = {
  audit: {
    summary: "the audit review queue: list, show, claim, decide, backtest",
    load: () => import("./audit-command.ts"),
  },
  backup: {
    summary: "write a verified backup of the database with its manifest",
    load: () => import("./backup.ts"),
  },
  bench: {
    summary: "measure order throughput and latency against a naive baseline",
    load: () => import("./bench.ts"),
  },
  "build-console": { summary: "build the web console (web/dist)", load: () => import("./console-build.ts") },
  demo: {
    summary: "seed a demo marketplace with orders, API keys and console logins",
    load: () => import("./demo.ts"),
  },
  keys: { summary: "create, list and revoke API keys", load: () => import("./keys-command.ts") },
  migrate: {
    summary: "apply the pending schema migrations and exit",
    load: () => import("./migrate-command.ts"),
  },
  policy: {
    summary: "simulate what a draft split policy would have paid",
    load: () => import("./policy-command.ts"),
  },
  report: {
    summary: "run statements and reports as JSON, CSV, XLSX or PDF",
    load: () => import("./report-command.ts"),
  },
  reconcile: {
    summary: "import a payment provider's bill and reconcile it",
    load: () => import("./reconcile.ts"),
  },
  restore: {
    summary: "restore a backup into an empty database and verify it",
    load: async () => (await import("./backup.ts")).restoreCommand,
  },
  serve: {
    summary: "start the API, web console and background work in one process",
    load: () => import("./serve.ts"),
  },
  settle: { summary: "pay every party whose settlement cycle is due", load: () => import("./settle.ts") },
  split: {
    summary: "split an order (and refunds) under a policy and explain every leg",
    load: () => import("./split.ts"),
  },
  users: { summary: "create, list and manage console users", load: () => import("./users-command.ts") },
  verify: {
    summary: "verify proof bundles, a live log, the database or a statement",
    load: () => import("./verify.ts"),
  },
  witness: {
    summary: "run a witness that cosigns a log's checkpoints",
    load: () => import("./witness-command.ts"),
  },
};

/** True when the arguments ask for help: `--help` or `-h` anywhere before a `--`. */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const options = end === -1 ? argv : argv.slice(0, end);
  return options.includes("--help") || options.includes("-h");
}
