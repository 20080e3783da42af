import { VerifyError } from "./errors.ts";

// RFC 8785 JSON Canonicalization Scheme for plain JSON values. Our own small
// version rather than the `canonicalize` package: that one is CommonJS with
// types that do not resolve under NodeNext, and it silently applies toJSON and
// drops undefined, where a hash input should refuse anything that is not JSON.
// ECMAScript's JSON.stringify already produces RFC 8785 strings and numbers,
// and the default sort compares UTF-16 code units, as §3.2.3 requires.

export const jcs_depth_max = 64;

const lone_surrogate_pattern = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuse(path: string, why: string): VerifyError {
  return new VerifyError("not_canonical_json", `record${path} ${why}`);
}

function serializeString(value: string, path: string): string {
  if (lone_surrogate_pattern.test(value)) throw refuse(path, "contains a lone UTF-16 surrogate");
  return JSON.stringify(value);
}

function serialize(value: unknown, path: string, depth: number): string {
  if (depth > jcs_depth_max) throw refuse(path, `nests deeper than ${jcs_depth_max}`);
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") return serializeString(value, path);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw refuse(path, "is not a finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => serialize(item, `${path}[${i}]`, depth + 1)).join(",")}]`;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => {
        const item = (value as Record<string, unknown>)[key];
        return `${serializeString(key, path)}:${serialize(item, `${path}.${key}`, depth + 1)}`;
      });
    return `{${entries.join(",")}}`;
  }
  throw refuse(path, `is a ${typeof value}, not a JSON value`);
}

export function canonicalJson(value: unknown): string {
  return serialize(value, "", 0);
}
