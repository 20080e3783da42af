import { builtinModules } from "node:module";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// Proves clearsplit/verify bundles for the browser without any Node built-in:
// every node:* or bare built-in import is marked external and reported.
describe("browser bundle", () => {
  it("bundles src/verify with no Node built-ins", async () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
    const imported: string[] = [];
    const result = await build({
      entryPoints: [new URL("./index.ts", import.meta.url).pathname],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      plugins: [
        {
          name: "forbid-node-builtins",
          setup(context) {
            context.onResolve({ filter: /.*/ }, (args) => {
              if (builtins.has(args.path) || args.path.startsWith("node:")) {
                imported.push(`${args.path} (from ${args.importer})`);
                return { path: args.path, external: true };
              }
              return undefined;
            });
          },
        },
      ],
    });
    expect(imported).toEqual([]);
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).toContain("verifyBundle");
    expect(code).not.toMatch(/\brequire\(/);
  });
});
