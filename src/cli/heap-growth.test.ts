import { describe, expect, it } from "vitest";
import { heap_growing_percent_default, heap_growing_percent_max } from "../core/limits.ts";
import { applyHeapGrowth } from "./heap-growth.ts";

describe("applyHeapGrowth", () => {
  it("takes the default when unset, a percent in range as given, and 0 as V8's own policy", () => {
    expect(applyHeapGrowth(undefined)).toBe(heap_growing_percent_default);
    expect(applyHeapGrowth("")).toBe(heap_growing_percent_default);
    expect(applyHeapGrowth("0")).toBe(0);
    expect(applyHeapGrowth(String(heap_growing_percent_max))).toBe(heap_growing_percent_max);
    expect(applyHeapGrowth(String(heap_growing_percent_default))).toBe(heap_growing_percent_default);
  });

  it("refuses a percent out of range or not an integer, naming the variable", () => {
    for (const bad of ["-1", String(heap_growing_percent_max + 1), "1.5", "fifty"])
      expect(applyHeapGrowth(bad)).toMatch(/^CLEARSPLIT_HEAP_GROWING_PERCENT must be 0-300/);
  });
});
