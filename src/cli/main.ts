import { DataDirLockedError } from "../store/data-dir-lock.ts";
import { commands } from "./commands.ts";

function usage(): string {
  return `usage: clearsplit <command> [options]\n\ncommands:\n  ${Object.keys(commands).sort().join("\n  ")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`clearsplit: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  const command = await load();
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
