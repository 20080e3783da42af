// One line per subcommand; each module is loaded only when its command runs,
// so `clearsplit verify` never pulls in the server or a database driver.
export interface Command {
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<Command>> = {
  audit: () => import("./audit.ts"),
  backup: () => import("./backup.ts"),
  bench: () => import("./bench.ts"),
  demo: () => import("./demo.ts"),
  keys: () => import("./api-keys.ts"),
  restore: async () => (await import("./backup.ts")).restoreCommand,
  serve: () => import("./serve.ts"),
  split: () => import("./split.ts"),
  users: () => import("./users.ts"),
  verify: () => import("./verify.ts"),
  witness: () => import("./witness.ts"),
};
