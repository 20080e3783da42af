import { describe, expect, it } from "vitest";
import { progressLines } from "./progress-lines.ts";

// Off a TTY, progress is one plain line per 10%: each decile once, in order, never repeated.
describe("progressLines", () => {
  it("reports each 10% step once, with the count and the elapsed time", () => {
    let now = 1_000;
    const line = progressLines("seeding", 1_000, () => now);
    const lines: string[] = [];
    for (let done = 0; done <= 37; done += 1) {
      now += 100;
      const text = line(done, 37);
      if (text !== null) lines.push(text);
    }
    expect(lines.map((text) => /: (\d+)%/.exec(text)![1])).toEqual([
      "0",
      "10",
      "20",
      "30",
      "40",
      "50",
      "60",
      "70",
      "80",
      "90",
      "100",
    ]);
    expect(lines.at(-1)).toBe("seeding: 100% (37/37 steps, 3.8 s)");
  });

  it("skips the steps a large update jumps over, and refuses done beyond total", () => {
    const line = progressLines("x", 0, () => 0);
    expect(line(5, 10)).toBe("x: 50% (5/10 steps, 0.0 s)");
    expect(line(5, 10)).toBeNull();
    expect(() => line(11, 10)).toThrow(/at most the total/);
  });
});
