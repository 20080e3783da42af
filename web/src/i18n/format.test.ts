import { describe, expect, it } from "vitest";
import { formatDateTime, formatMoney, minorToDecimal } from "./format.ts";

// Money is shown exactly from integer minor units: string arithmetic, never a float.

/** Intl separates the currency code with a no-break space; compare with plain spaces. */
const plain = (text: string) => text.replace(/\s/g, " ");

describe("money formatting", () => {
  it("turns minor units into a decimal string by the currency's exponent", () => {
    expect(minorToDecimal("12345", 2)).toBe("123.45");
    expect(minorToDecimal("-5", 2)).toBe("-0.05");
    expect(minorToDecimal("0", 2)).toBe("0.00");
    expect(minorToDecimal("-0", 2)).toBe("0.00");
    expect(minorToDecimal("7", 0)).toBe("7");
    expect(minorToDecimal("1234", 3)).toBe("1.234");
    expect(() => minorToDecimal("1.5", 2)).toThrow();
  });

  it("formats amounts beyond 2^53 exactly in every language", () => {
    const huge = "123456789012345678901";
    expect(plain(formatMoney(huge, "CNY", "en"))).toBe("CNY 1,234,567,890,123,456,789.01");
    expect(formatMoney(huge, "CNY", "zh-CN")).toBe("¥1,234,567,890,123,456,789.01");
    expect(formatMoney(BigInt(huge), "CNY", "zh-TW")).toContain("1,234,567,890,123,456,789.01");
    expect(plain(formatMoney(9007199254740991, "CNY", "en"))).toBe("CNY 90,071,992,547,409.91");
    expect(plain(formatMoney(-1, "JPY", "en"))).toBe("-JPY 1");
    expect(plain(formatMoney(1, "KWD", "en"))).toBe("KWD 0.001");
  });

  it("refuses a number that is not an exact integer", () => {
    expect(() => formatMoney(0.1, "CNY", "en")).toThrow(RangeError);
    expect(() => formatMoney(2 ** 60, "CNY", "en")).toThrow(RangeError);
  });

  it("writes dates in the language", () => {
    const iso = "2026-11-30T01:02:03Z";
    expect(formatDateTime(iso, "en")).toMatch(/2026/);
    expect(formatDateTime(iso, "zh-CN")).toMatch(/2026年/);
    expect(formatDateTime(null, "en")).toBe("—");
  });
});
