import { assert } from "./assert.ts";
import { amount_minor_max } from "./money.ts";

// Amounts leave the API as JSON integers. Every bigint in a response is an
// amount or a count bounded far below 2^53, which we assert rather than trust.
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") {
    assert(
      value <= amount_minor_max && value >= -amount_minor_max,
      `integer ${value} does not fit a JSON number exactly`,
    );
    return Number(value);
  }
  return value;
}

export function toJsonText(value: unknown): string {
  // A replacer makes JSON.stringify call back into JS for every value; most
  // of a batch response has no bigint at all. JSON.stringify refuses a bigint
  // with a TypeError, and only then is the value walked again with the replacer.
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, jsonReplacer);
  }
}
