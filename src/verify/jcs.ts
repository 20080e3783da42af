import { VerifyError } from "./verify-error.ts";

// RFC 8785 JSON Canonicalization Scheme for plain JSON values. Our own small
// version rather than the `canonicalize` package: that one is CommonJS with
// types that do not resolve under NodeNext, and it silently applies toJSON and
// drops undefined, where a hash input should refuse anything that is not JSON.
// ECMAScript's JSON.stringify already produces RFC 8785 strings and numbers,
// and the default sort compares UTF-16 code units, as §3.2.3 requires.
//
// This sits on the booking hot path (three hashes per order), so the walk
// builds no path strings: only when a value is refused does a second, slower
// walk find where, to name it in the error.

export const jcs_depth_max = 64;

const lone_surrogate_pattern = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const isWellFormed: (value: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (value) => (value as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (value) => !lone_surrogate_pattern.test(value);

/** Why a value cannot be canonicalised, or undefined if it can be (ignoring depth). */
function refusal(value: unknown): string | undefined {
  if (value === null || typeof value === "boolean") return undefined;
  if (typeof value === "string") return isWellFormed(value) ? undefined : "contains a lone UTF-16 surrogate";
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "is not a finite number";
  if (Array.isArray(value)) return undefined;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) return undefined;
  return `is a ${typeof value}, not a JSON value`;
}

const not_canonical = Symbol("not canonical");

function serialize(value: unknown, depth: number): string {
  if (depth > jcs_depth_max) throw not_canonical;
  if (typeof value === "string") {
    if (!isWellFormed(value)) throw not_canonical;
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw not_canonical;
    return JSON.stringify(value);
  }
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + serialize(value[i], depth + 1);
    return `${out}]`;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value).sort();
    let out = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (!isWellFormed(key)) throw not_canonical;
      out += `${i === 0 ? "" : ","}${JSON.stringify(key)}:${serialize((value as Record<string, unknown>)[key], depth + 1)}`;
    }
    return `${out}}`;
  }
  throw not_canonical;
}

/** The slow walk: the first refused value, with its path. */
function locate(value: unknown, path: string, depth: number): VerifyError | undefined {
  if (depth > jcs_depth_max) return refuse(path, `nests deeper than ${jcs_depth_max}`);
  const why = refusal(value);
  if (why !== undefined) return refuse(path, why);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = locate(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
  } else if (typeof value === "object" && value !== null) {
    for (const key of Object.keys(value).sort()) {
      if (!isWellFormed(key)) return refuse(path, "contains a lone UTF-16 surrogate");
      const found = locate((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function refuse(path: string, why: string): VerifyError {
  return new VerifyError("not_canonical_json", `record${path} ${why}`);
}

/**
 * True when the value is plain JSON whose object keys are already in
 * canonical order everywhere: then JSON.stringify, one native call, produces
 * exactly the RFC 8785 text. Records we build ourselves list their keys in
 * that order for this reason.
 */
function inCanonicalOrder(value: unknown, depth: number): boolean {
  if (depth > jcs_depth_max) return false;
  if (typeof value === "string") return isWellFormed(value);
  if (typeof value === "number") return Number.isFinite(value);
  if (value === null || typeof value === "boolean") return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i], depth + 1)) return false;
    return true;
  }
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    if ((previous !== undefined && !(previous < key)) || !isWellFormed(key)) return false;
    if (!inCanonicalOrder((value as Record<string, unknown>)[key], depth + 1)) return false;
    previous = key;
  }
  return true;
}

export function canonicalJson(value: unknown): string {
  if (inCanonicalOrder(value, 0)) return JSON.stringify(value);
  try {
    return serialize(value, 0);
  } catch (error) {
    if (error !== not_canonical) throw error;
    const found = locate(value, "", 0);
    // Both walks apply the same rules, so the slow one always finds the culprit.
    throw found ?? refuse("", "is not canonical JSON");
  }
}
