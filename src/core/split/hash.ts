import { createHash } from "node:crypto";
import canonicalize_module from "canonicalize";
import { assert } from "../assert.ts";
import { type Policy, parsePolicy } from "./policy.ts";

// The only file of the split engine that touches a Node module: a policy is
// identified by the SHA-256 of its RFC 8785 canonical JSON, computed once when
// it is published or loaded, never per allocation.
// The package is CommonJS whose module.exports is the function; its typings
// describe an ES default export, which NodeNext resolution reads one level too deep.
const canonicalize = canonicalize_module as unknown as (input: unknown) => string | undefined;

export function policyHash(json: unknown): string {
  const canonical = canonicalize(json);
  assert(canonical !== undefined, "a policy document canonicalises to text");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

export interface PolicyVersion {
  readonly policy: Policy;
  readonly policy_hash: string;
}

/** Validates a policy document and hashes it, once. */
export function loadPolicy(json: unknown): PolicyVersion {
  const policy = parsePolicy(json);
  return { policy, policy_hash: policyHash(json) };
}
