// One line per subcommand; each module is loaded only when its command runs,
// so `clearsplit verify` never pulls in the server or a database driver.
export interface Command {
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<Command>> = {
  audit: () => import("./audit.ts"),
  backup: () => import("./backup.ts"),
  bench: () => import("./bench.ts"),
  "build-console": () => import("./console-build.ts"),
  demo: () => import("./demo.ts"),
  keys: () => import("./api-keys.ts"),
  policy: () => import("./policy.ts"),
  report: () => import("./report.ts"),
  reconcile: () => import("./reconcile.ts"),
  restore: async () => (await import("./backup.ts")).restoreCommand,
  serve: () => import("./serve.ts"),
  settle: () => import("./settle.ts"),
  split: () => import("./split.ts"),
  users: () => import("./users.ts"),
  verify: () => import("./verify.ts"),
  witness: () => import("./witness.ts"),
};
