import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// One test over all of src keeps every layer's imports honest (decisions §20):
// core is pure and imports Node only through its one hashing module; store sits
// below service; service never reaches the edges (http, cli); tlog, the log's
// pure core, does no network or file I/O; verify imports nothing outside itself;
// and no module imports itself through a cycle.

const src = new URL(".", import.meta.url).pathname;

interface Module {
  path: string; // relative to src, e.g. "core/money.ts"
  layer: string; // first directory, e.g. "core"
  local: string[]; // resolved relative imports, relative to src
  packages: string[]; // bare specifiers, including node: modules
  text: string;
}

function modules(): Module[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name) && !/\.(test|bench)\.tsx?$/.test(entry.name)) files.push(path);
    }
  };
  walk(src);
  return files.map((file) => {
    const text = readFileSync(file, "utf8");
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s(?:[^;"']*?\sfrom\s)?\s*"([^"]+)"/gm),
      ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ].map((match) => match[1]!);
    const path = relative(src, file);
    return {
      path,
      layer: path.includes("/") ? path.split("/")[0]! : "",
      local: specifiers.filter((s) => s.startsWith(".")).map((s) => relative(src, resolve(dirname(file), s))),
      packages: specifiers.filter((s) => !s.startsWith(".")),
      text,
    };
  });
}

const all = modules();
const of = (layer: string): Module[] => all.filter((module) => module.layer === layer);
const layerOf = (path: string): string => (path.includes("/") ? path.split("/")[0]! : "");

/** `module imports target` for every import of `module` into one of `layers`. */
function crossings(from: Module[], layers: readonly string[]): string[] {
  return from.flatMap((module) =>
    module.local
      .filter((target) => layers.includes(layerOf(target)))
      .map((t) => `${module.path} imports ${t}`),
  );
}

const hashing_module = "core/sha256.ts";

describe("layering over all of src", () => {
  it("sees every layer (so the rules below test something)", () => {
    for (const layer of ["core", "store", "service", "http", "cli", "tlog", "verify"]) {
      expect(of(layer).length, layer).toBeGreaterThan(3);
    }
  });

  it("core does no I/O: no Node module except through the hashing module, and nothing above it", () => {
    const node_imports = of("core").flatMap((module) =>
      module.packages
        .filter((specifier) => specifier.startsWith("node:") && module.path !== hashing_module)
        .map((specifier) => `${module.path} imports ${specifier}`),
    );
    expect(node_imports).toEqual([]);
    const io = of("core").filter((module) =>
      /(?<![.\w])fetch\(|\b(process\.(env|stdout|stderr|exit))\b|\brequire\(/.test(module.text),
    );
    expect(io.map((module) => module.path)).toEqual([]);
    // The only packages core may use: uuid for UUIDv7 ids.
    const packages = of("core").flatMap((module) =>
      module.packages.filter((p) => !p.startsWith("node:")).map((p) => `${module.path} imports ${p}`),
    );
    expect(packages).toEqual(["core/ids.ts imports uuid"]);
    expect(crossings(of("core"), ["store", "service", "http", "cli", "tlog", "bench", "testing"])).toEqual(
      [],
    );
  });

  it("store never imports service or the edges", () => {
    expect(crossings(of("store"), ["service", "http", "cli", "bench"])).toEqual([]);
  });

  it("service never imports http or cli", () => {
    expect(crossings(of("service"), ["http", "cli", "bench"])).toEqual([]);
  });

  it("tlog is the log's pure core: no network or file I/O, nothing from the layers above", () => {
    const io_modules =
      /^node:(fs|fs\/promises|http|https|http2|net|tls|dgram|dns|child_process|worker_threads)$/;
    const io = of("tlog").flatMap((module) =>
      module.packages
        .filter((p) => io_modules.test(p) || !p.startsWith("node:"))
        .map((p) => `${module.path} imports ${p}`),
    );
    expect(io).toEqual([]);
    expect(
      of("tlog")
        .filter((module) => /(?<![.\w])fetch\(/.test(module.text))
        .map((module) => module.path),
    ).toEqual([]);
    expect(crossings(of("tlog"), ["store", "service", "http", "cli", "bench", "testing"])).toEqual([]);
  });

  it("verify imports nothing outside itself: no package, no Node module, no other layer", () => {
    const outside = of("verify").flatMap((module) => [
      ...module.packages.map((p) => `${module.path} imports ${p}`),
      ...module.local.filter((t) => layerOf(t) !== "verify").map((t) => `${module.path} imports ${t}`),
    ]);
    expect(outside).toEqual([]);
  });

  it("opens a transaction one way: inTransaction, outside the store adapters (decisions §26)", () => {
    const direct = all
      .filter((module) => module.layer !== "store")
      .filter((module) => /\.transaction\(/.test(module.text))
      .map((module) => module.path);
    expect(direct).toEqual([]);
  });

  it("gives no two source files one base name, but for a few conventional ones (decisions §26)", () => {
    // A module's entry point, its plain-data types, a program's entry, and test helpers.
    const conventional = ["index.ts", "types.ts", "main.ts", "testing.ts"];
    const by_name = new Map<string, string[]>();
    for (const module of all) {
      const name = module.path.split("/").pop()!;
      if (!conventional.includes(name)) by_name.set(name, [...(by_name.get(name) ?? []), module.path]);
    }
    const clashes = [...by_name.values()]
      .filter((paths) => paths.length > 1)
      .map((paths) => paths.join(" ~ "));
    expect(clashes).toEqual([]);
    expect(all.length).toBeGreaterThan(300);
  });

  it("http writes no SQL: its queries are functions of store/<table>-sql.ts (decisions §26)", () => {
    const sql = of("http").filter((module) => /\.query\s*[<(]|\.unsafe\(|\bsql`/.test(module.text));
    expect(sql.map((module) => module.path)).toEqual([]);
  });

  it("writes SQL only in src/store: each table's queries are functions of store/<table>-sql.ts (decisions §29)", () => {
    const writes_sql = (module: Module) => /\.query\s*[<(]|\.unsafe\(|\bsql`/.test(module.text);
    // Tools beside the product that read and seed the database directly by design: test helpers,
    // the bench (it measures statements) and the simulator (it checks invariants over raw tables).
    const tools = ["testing", "bench", "sim"];
    // Service and CLI modules whose SQL had not moved yet: none since issue 13 closed. Keep it empty.
    const not_yet: string[] = [];
    const outside = all
      .filter((module) => module.layer !== "store" && !tools.includes(module.layer))
      .filter(writes_sql)
      .map((module) => module.path);
    expect(outside.filter((path) => !not_yet.includes(path))).toEqual([]);
    expect(not_yet.filter((path) => !outside.includes(path))).toEqual([]);
  });

  it("has no import cycle anywhere in src", () => {
    const graph = new Map(all.map((module) => [module.path, module.local]));
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (path: string, stack: string[]): void => {
      state.set(path, "open");
      stack.push(path);
      for (const next of graph.get(path) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
        else if (state.get(next) === undefined) visit(next, stack);
      }
      stack.pop();
      state.set(path, "done");
    };
    for (const path of graph.keys()) if (state.get(path) === undefined) visit(path, []);
    expect(cycles).toEqual([]);
  });
});
