import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import type { Database } from "../store/database.ts";

// `--profile`: a V8 CPU profile per scenario (the same format `node
// --cpu-prof` writes; open it in Chrome DevTools or speedscope), its top
// self-time functions as text, and PostgreSQL's pg_stat_statements when the
// server has it loaded.

export const profile_directory = "bench-out";
export const top_functions_max = 25;
export const top_statements_max = 15;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

export class Profiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: 500 });
    await this.session.post("Profiler.start");
  }

  /** Stops, writes `<name>.cpuprofile` and `<name>.top.txt`, and returns the summary. */
  async stop(name: string): Promise<string> {
    const { profile } = (await this.session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
    await this.session.post("Profiler.disable");
    this.session.disconnect();
    await mkdir(profile_directory, { recursive: true });
    await writeFile(join(profile_directory, `${name}.cpuprofile`), JSON.stringify(profile));
    const summary = summarise(profile);
    await writeFile(join(profile_directory, `${name}.top.txt`), summary);
    return summary;
  }
}

/**
 * Self time by function, largest first, as a share of the busy samples: a
 * profile of a whole process life (the server's) is mostly idle, and shares of
 * all samples would hide where the busy time goes. The idle share comes first.
 */
export function summarise(profile: CpuProfile): string {
  const by_node = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  if (profile.samples !== undefined && profile.samples.length > 0) {
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  } else {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  }
  const by_function = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, count] of hits) {
    const frame = by_node.get(id)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === "(idle)") {
      idle += count;
      continue;
    }
    const file = frame.url.replace(/^file:\/\//, "").replace(process.cwd(), ".");
    const key = `${frame.functionName || "(anonymous)"}  ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
    by_function.set(key, (by_function.get(key) ?? 0) + count);
    busy += count;
  }
  const share = (count: number, of: number) => ((100 * count) / Math.max(1, of)).toFixed(1).padStart(5);
  const top = [...by_function].sort((a, b) => b[1] - a[1]).slice(0, top_functions_max);
  return (
    [
      `idle: ${share(idle, idle + busy).trim()}% of ${idle + busy} samples; shares below are of the ${busy} busy ones`,
      ...top.map(([key, count]) => `${share(count, busy)}%  ${key}`),
    ].join("\n") + "\n"
  );
}

export const server_profile_name = "server.cpuprofile";

/** Removes an earlier run's server profile, so a server that writes none is not summarised from it. */
export async function clearServerProfile(): Promise<void> {
  await rm(join(profile_directory, server_profile_name), { force: true });
}

/** The server process's profile (written when it stops) summarised beside it, as `server.top.txt`. */
export async function summariseServerProfile(): Promise<void> {
  const path = join(profile_directory, server_profile_name);
  const profile = JSON.parse(await readFile(path, "utf8")) as CpuProfile;
  await writeFile(join(profile_directory, "server.top.txt"), summarise(profile));
}

/** Resets pg_stat_statements; says why not when the extension is not loaded. */
export async function resetStatements(db: Database): Promise<string | null> {
  if (db.backend !== "postgres") return "pg_stat_statements: not available on PGlite";
  try {
    await db.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await db.query("SELECT pg_stat_statements_reset()");
    return null;
  } catch (error) {
    return `pg_stat_statements: not available (${error instanceof Error ? error.message : String(error)}); add it to shared_preload_libraries to get statement statistics`;
  }
}

/** The statements that took the most time in this database since the reset, written to `<name>.pg_stat_statements.txt`. */
export async function dumpStatements(db: Database, name: string): Promise<string> {
  const rows = await db.query<{
    calls: bigint;
    total_ms: string;
    mean_ms: string;
    rows: bigint;
    query: string;
  }>(
    `SELECT calls, round(total_exec_time::numeric, 1)::text AS total_ms, round(mean_exec_time::numeric, 3)::text AS mean_ms,
            rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT ${top_statements_max}`,
  );
  const text =
    rows
      .map(
        (row) =>
          `${row.total_ms.padStart(10)} ms  ${String(row.calls).padStart(8)} calls  ${row.mean_ms.padStart(8)} ms/call  ${row.query}`,
      )
      .join("\n") + "\n";
  await mkdir(profile_directory, { recursive: true });
  await writeFile(join(profile_directory, `${name}.pg_stat_statements.txt`), text);
  return text;
}

/**
 * Without pg_stat_statements, sampling pg_stat_activity still shows where the
 * server's backends spend their time: each sample counts every active backend
 * of the bench database by wait event and statement.
 */
export class ActivitySampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly db: Database) {}

  start(interval_ms = 100): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sample().finally(() => {
        this.busy = false;
      });
    }, interval_ms);
  }

  private async sample(): Promise<void> {
    const rows = await this.db.query<{ wait: string; query: string }>(
      `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
         FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
    );
    this.samples++;
    for (const row of rows) {
      const key = `${row.wait.padEnd(28)} ${row.query}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }

  /** Stops and writes `<name>.pg_activity.txt`: average active backends per (wait, statement). */
  async stop(name: string): Promise<string> {
    if (this.timer !== null) clearInterval(this.timer);
    const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, top_statements_max);
    const text =
      `${this.samples} samples; average active backends by wait event and statement:\n` +
      top
        .map(([key, count]) => `${(count / Math.max(1, this.samples)).toFixed(2).padStart(6)}  ${key}`)
        .join("\n") +
      "\n";
    await mkdir(profile_directory, { recursive: true });
    await writeFile(join(profile_directory, `${name}.pg_activity.txt`), text);
    return text;
  }
}

/** One scenario's profile: the CPU profile, and on PostgreSQL the statement statistics or activity samples. */
export class ProfilePass {
  private constructor(
    private readonly db: Database,
    private readonly say: (text: string) => void,
    private readonly profiler: Profiler,
    private readonly activity: ActivitySampler | null,
    private readonly statements: boolean,
  ) {}

  static async start(db: Database, say: (text: string) => void): Promise<ProfilePass> {
    const unavailable = await resetStatements(db);
    const activity = unavailable !== null && db.backend === "postgres" ? new ActivitySampler(db) : null;
    if (unavailable !== null)
      say(`${unavailable}${activity === null ? "" : "; sampling pg_stat_activity instead"}\n`);
    const profiler = new Profiler();
    await profiler.start();
    activity?.start();
    return new ProfilePass(db, say, profiler, activity, unavailable === null);
  }

  async stop(name: string): Promise<void> {
    this.say(
      `top self time (${name}), written to ${profile_directory}/${name}.cpuprofile:\n${await this.profiler.stop(name)}`,
    );
    if (this.activity !== null) this.say(`PostgreSQL activity (${name}): ${await this.activity.stop(name)}`);
    if (this.statements) this.say(`top statements (${name}):\n${await dumpStatements(this.db, name)}`);
  }
}
