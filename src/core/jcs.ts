import canonicalizeModule from "canonicalize";

// The package is CommonJS whose module.exports is the function; its typings
// declare an ES default export, which NodeNext resolution reads as the module
// object. At run time (Node, esbuild, Vite) the default import is the function.
const serialize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** RFC 8785 JSON Canonicalization Scheme. Throws for values with no JSON form. */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new TypeError("value has no JSON form");
  return text;
}
