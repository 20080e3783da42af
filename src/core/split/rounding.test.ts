import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareLineIds, largestRemainder, splitProRata } from "./rounding.ts";

describe("largest remainder rounding", () => {
  it("splits 15 as 80/8/12 into 12/1/2, where floor-then-first-in-order gives 13/1/1", () => {
    // Exact shares: 15 × 0.80 = 12, 15 × 0.08 = 1.2, 15 × 0.12 = 1.8. Floors 12 + 1 + 1 = 14;
    // the one unit left goes to the largest remainder, 0.8, so the third share gets it.
    expect(splitProRata(15n, [80n, 8n, 12n])).toEqual([12n, 1n, 2n]);
    // Floor then first in order (Numscript, dinero.js) would give the unit to the first share: 13/1/1.
    const floors = [80n, 8n, 12n].map((weight) => (15n * weight) / 100n);
    floors[0] = floors[0]! + 1n;
    expect(floors).toEqual([13n, 1n, 1n]);
  });

  it("gives tied remainders to the earlier share", () => {
    // 1 unit over two equal weights: 0.5 and 0.5 tie, so the first share wins.
    expect(splitProRata(1n, [1n, 1n])).toEqual([1n, 0n]);
    // 2 units over three equal weights: 0.666… each; the first two win.
    expect(splitProRata(2n, [5n, 5n, 5n])).toEqual([1n, 1n, 0n]);
  });

  it("sums exactly and stays within one unit of each exact share", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 53n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 }),
        (amount, weights) => {
          fc.pre(weights.some((weight) => weight > 0n));
          const result = splitProRata(amount, weights);
          const weight_sum = weights.reduce((a, b) => a + b, 0n);
          expect(result.reduce((a, b) => a + b, 0n)).toBe(amount);
          result.forEach((value, index) => {
            const floor = (amount * weights[index]!) / weight_sum;
            expect(value === floor || value === floor + 1n).toBe(true);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("refuses exact shares that do not sum to whole units", () => {
    expect(() => largestRemainder([1n, 1n], 3n)).toThrow(/whole number/);
  });

  it("orders digit-only line ids as numbers and others by code units", () => {
    expect(["10", "2", "1", "B", "A"].sort(compareLineIds)).toEqual(["1", "2", "10", "A", "B"]);
  });
});
