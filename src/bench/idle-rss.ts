import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

// An idle server's start: how long `clearsplit serve` takes to listen, and the
// largest resident set among its processes a few seconds after, for one or more
// checkouts in turn (so two trees are compared in the same sitting):
//
//   DATABASE_URL=postgres://... npx tsx src/bench/idle-rss.ts --root . --root ../other --rounds 3
//
// Linux only (it reads /proc). Not a test: it prints figures and asserts nothing.

const { values } = parseArgs({
  options: {
    root: { type: "string", multiple: true },
    rounds: { type: "string", default: "2" },
    "settle-ms": { type: "string", default: "3000" },
  },
});
const roots = (values.root ?? ["."]).map((root) => resolve(root));
const rounds = Number(values.rounds);
const settle_ms = Number(values["settle-ms"]);
const listen_timeout_ms = 120_000;
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(settle_ms) || settle_ms < 0)
  throw new Error("--rounds is a positive integer, --settle-ms a non-negative one");

for (let round = 1; round <= rounds; round++) {
  for (const root of roots) {
    const { ready_ms, rss_kib } = await measure(root);
    process.stdout.write(
      `round ${round}  ${root}: listening after ${ready_ms} ms, largest process RSS ${Math.round(rss_kib / 1024)} MB\n`,
    );
  }
}

async function measure(root: string): Promise<{ ready_ms: number; rss_kib: number }> {
  const child = spawn(process.execPath, [`${root}/bin/clearsplit.mjs`, "serve", "--port", "0"], {
    cwd: root,
    env: { ...process.env, CLEARSPLIT_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const started = Date.now();
  try {
    while (!/http:\/\//.test(output)) {
      if (Date.now() - started > listen_timeout_ms) throw new Error(`${root}: not listening: ${output}`);
      if (child.exitCode !== null) throw new Error(`${root}: serve exited ${child.exitCode}: ${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    const ready_ms = Date.now() - started;
    await new Promise((done) => setTimeout(done, settle_ms));
    let rss_kib = 0;
    for (const pid of processTree(child.pid!)) rss_kib = Math.max(rss_kib, residentKib(pid));
    return { ready_ms, rss_kib };
  } finally {
    for (const pid of processTree(child.pid!).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/** The process and its descendants (serve may run as a wrapper and a child). */
function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return [pid, ...children.flatMap(processTree)];
}

function residentKib(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
