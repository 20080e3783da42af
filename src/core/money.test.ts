import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currencyExponent } from "./currency.ts";
import { DomainError } from "./errors.ts";
import { amount_minor_max, amountFromInput, formatDecimal, formatMoney, parseDecimal } from "./money.ts";

describe("money", () => {
  it("knows the minor-unit exponents that differ from two", () => {
    expect(currencyExponent("CNY")).toBe(2);
    expect(currencyExponent("JPY")).toBe(0);
    expect(currencyExponent("KWD")).toBe(3);
    expect(() => currencyExponent("XXX")).toThrow(/unknown ISO 4217/);
  });

  it("parses decimals exactly, with no floating point", () => {
    expect(parseDecimal("1234.5", "CNY")).toBe(123450n);
    expect(parseDecimal("0.1", "KWD")).toBe(100n);
    expect(parseDecimal("-0.07", "USD")).toBe(-7n);
    expect(parseDecimal("90071992547409.93", "CNY")).toBe(9007199254740993n);
    expect(() => parseDecimal("1.005", "CNY")).toThrow(/3 decimal places but CNY has 2/);
    expect(() => parseDecimal("12", "ABC")).toThrow(DomainError);
    expect(() => parseDecimal("1e3", "CNY")).toThrow(/not a decimal/);
  });

  it("formats what it parses, for every exponent", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
        fc.constantFrom("CNY", "JPY", "KWD", "CLF"),
        (amount, currency) => {
          expect(parseDecimal(formatDecimal(amount, currency), currency)).toBe(amount);
        },
      ),
      { numRuns: 2000 },
    );
    expect(formatDecimal(5n, "CNY")).toBe("0.05");
    expect(formatDecimal(-5n, "KWD")).toBe("-0.005");
    expect(formatDecimal(1234n, "JPY")).toBe("1234");
    expect(formatMoney(123456789n, "CNY")).toBe("1,234,567.89 CNY");
  });

  it("accepts API amounts up to 2^53-1 minor units and names the field otherwise", () => {
    expect(amountFromInput(Number(amount_minor_max), "x")).toBe(amount_minor_max);
    expect(() => amountFromInput(2 ** 53, "paid_minor")).toThrow(/paid_minor must be at most/);
    expect(() => amountFromInput(0, "amount_minor")).toThrow(/amount_minor must be greater than zero/);
    expect(amountFromInput(0, "fee", true)).toBe(0n);
    expect(() => amountFromInput(-3, "fee")).toThrow(
      expect.objectContaining({ code: "amount_not_positive", field: "fee" }),
    );
    expect(() => amountFromInput(1.5, "fee")).toThrow(/integer/);
  });
});
