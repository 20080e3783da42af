import { DataDirLockedError } from "../store/data-dir-lock.ts";
import { asksForHelp, commands } from "./commands.ts";

/** How long a failed command may take to let its output drain before the process ends. */
const failed_exit_grace_ms = 500;

function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((name) => name.length));
  const lines = names.map((name) => `  ${name.padEnd(width)}  ${commands[name]!.summary}`);
  return (
    `usage: clearsplit <command> [options]\n\ncommands:\n${lines.join("\n")}\n\n` +
    "`clearsplit <command> --help` prints a command's options.\n"
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`clearsplit: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  // Every command and subcommand answers --help and -h the same way (issue 12).
  if (asksForHelp(rest)) {
    process.stdout.write(command.usage);
    return 0;
  }
  return command.run(rest);
}

const code = await main(process.argv.slice(2)).catch((error: unknown) => {
  // Another process owns the embedded database: a usage condition, not a crash (issue 12).
  if (error instanceof DataDirLockedError) {
    process.stderr.write(`clearsplit: ${error.message}\n`);
    return 2;
  }
  process.stderr.write(`clearsplit: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
process.exitCode = code;
// A command that failed part-way (serve whose port is taken, after its
// background loops and database pool started) must still end: nothing else
// will stop those loops. A clean finish ends by itself, as before.
if (code !== 0) setTimeout(() => process.exit(code), failed_exit_grace_ms).unref();
