import { describe, expect, it } from "vitest";
import { forEachTenant } from "./tenant-rounds.ts";

describe("forEachTenant", () => {
  const failing = (bad: ReadonlySet<string>, visited: string[]) => async (tenant_id: string) => {
    visited.push(tenant_id);
    if (bad.has(tenant_id)) throw new Error(`broken ${tenant_id}`);
  };

  it("goes on past a failing tenant and hands each failure to the handler with its tenant", async () => {
    const visited: string[] = [];
    const failures: [string, string][] = [];
    await forEachTenant(["a", "b", "c", "d"], failing(new Set(["a", "c"]), visited), (error, tenant_id) =>
      failures.push([tenant_id, (error as Error).message]),
    );
    expect(visited).toEqual(["a", "b", "c", "d"]);
    expect(failures).toEqual([
      ["a", "broken a"],
      ["c", "broken c"],
    ]);
  });

  it("with no handler visits every tenant, then throws the one error as it was", async () => {
    const visited: string[] = [];
    const round = forEachTenant(["a", "b", "c"], failing(new Set(["a"]), visited));
    await expect(round).rejects.toThrow("broken a");
    expect(visited).toEqual(["a", "b", "c"]);
  });

  it("with no handler and several failures throws them all together, naming the tenants", async () => {
    const visited: string[] = [];
    const round = forEachTenant(["a", "b", "c"], failing(new Set(["a", "c"]), visited));
    await expect(round).rejects.toSatisfy(
      (error) =>
        error instanceof AggregateError &&
        error.errors.length === 2 &&
        error.message === "2 tenants failed: a, c",
    );
    expect(visited).toEqual(["a", "b", "c"]);
  });

  it("a clean round throws nothing and visits each tenant once, in order", async () => {
    const visited: string[] = [];
    await forEachTenant(new Set(["x", "y"]), failing(new Set(), visited));
    expect(visited).toEqual(["x", "y"]);
  });
});
