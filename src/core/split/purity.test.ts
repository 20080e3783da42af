import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The engine must run in a browser and never do I/O: only policy-hash.ts may import a
// Node module (node:crypto), and nothing may reach the store, HTTP or CLI layers.
describe("split engine purity", () => {
  it("imports no Node module outside policy-hash.ts and nothing from the edges", () => {
    const directory = new URL(".", import.meta.url);
    for (const name of readdirSync(directory)) {
      if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
      const text = readFileSync(new URL(name, directory), "utf8");
      if (name !== "policy-hash.ts") expect(text, name).not.toMatch(/from "node:/);
      expect(text, name).not.toMatch(/from "\.\.\/\.\.\/(store|http|cli|service)\//);
    }
  });
});
