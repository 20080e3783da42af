import { usage as bench_usage, parseBenchArgs, UsageError } from "../bench/args.ts";

export const usage = `${bench_usage.trimEnd()}\n`;

import { runBench } from "../bench/run.ts";
import { applyHeapGrowth } from "./heap-growth.ts";

// `clearsplit bench` (`npm run bench`): throughput and latency of the order
// paths against a naive baseline in the same run. Results go to stdout (a
// table, or one JSON object per scenario with --json); progress goes to stderr.
export async function run(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`clearsplit bench: ${error.message}\n${usage}`);
    return 2;
  }
  // The scenarios that run in this process (library, lifecycle, and all on PGlite) stand in for the
  // server, so its heap grows as `serve`'s does (decisions §33).
  const heap = applyHeapGrowth(process.env.CLEARSPLIT_HEAP_GROWING_PERCENT);
  if (typeof heap === "string") {
    process.stderr.write(`clearsplit bench: ${heap}\n`);
    return 2;
  }
  return runBench(options, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    progress: process.stderr.isTTY === true,
  });
}
