import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The console (web/) is built by Vite into web/dist, never committed. `serve`
// builds it when the build is missing or stale: the build records a SHA-256 of
// every input (the console's sources, the verifier it bundles, the lockfile),
// so a checkout, a pull or an edit rebuilds it and an unchanged tree does not.

export const repository_root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const console_dir = join(repository_root, "web", "dist");
const stamp_name = ".build-sha256";
const input_paths = ["web/index.html", "web/vite.config.ts", "web/src", "src/verify", "package-lock.json"];
const input_files_max = 2_000;

/** SHA-256 over the console's inputs: each file's path and content, in path order. */
export function consoleInputsHash(root = repository_root): string {
  const files: string[] = [];
  const walk = (path: string): void => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name));
      return;
    }
    // Tests beside the sources are not part of the bundle.
    if (!/\.test\.tsx?$/.test(path)) files.push(path);
    if (files.length > input_files_max)
      throw new Error(`the console has over ${input_files_max} input files`);
  };
  for (const path of input_paths) walk(join(root, path));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export function consoleBuildFresh(root = repository_root): boolean {
  const stamp = join(root, "web", "dist", stamp_name);
  if (!existsSync(stamp) || !existsSync(join(root, "web", "dist", "index.html"))) return false;
  return readFileSync(stamp, "utf8").trim() === consoleInputsHash(root);
}

export interface BuildOutcome {
  built: boolean;
  duration_ms: number;
}

/**
 * Builds the console unless the build in web/dist matches its inputs. The new
 * build goes to a temporary directory first and replaces web/dist by rename,
 * so a server never serves a half-written build.
 */
export async function ensureConsoleBuilt(
  options: { root?: string; log?: (line: string) => void } = {},
): Promise<BuildOutcome> {
  const root = options.root ?? repository_root;
  const started_ms = Date.now();
  if (consoleBuildFresh(root)) return { built: false, duration_ms: Date.now() - started_ms };
  options.log?.("building the web console (web/ → web/dist) …");
  const hash = consoleInputsHash(root);
  const staging = join(root, "web", `dist.building-${process.pid}`);
  const { build } = await import("vite");
  await build({
    configFile: join(root, "web", "vite.config.ts"),
    build: { outDir: staging, emptyOutDir: true },
    logLevel: "warn",
  });
  writeFileSync(join(staging, stamp_name), `${hash}\n`);
  const target = join(root, "web", "dist");
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  const duration_ms = Date.now() - started_ms;
  options.log?.(`web console built in ${(duration_ms / 1000).toFixed(1)} s`);
  return { built: true, duration_ms };
}

export const usage = `usage: clearsplit build-console [--force]

Builds the web console (web/ -> web/dist) when its sources changed; --force rebuilds it anyway.
`;

export async function run(argv: string[]): Promise<number> {
  if (argv.length > 1 || (argv[0] !== undefined && argv[0] !== "--force")) {
    process.stderr.write(usage);
    return 2;
  }
  if (argv[0] === "--force") rmSync(join(console_dir, stamp_name), { force: true });
  const outcome = await ensureConsoleBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
  if (!outcome.built) process.stderr.write("web console is up to date (web/dist)\n");
  return 0;
}
