import { canonicalJsonSha256Hex } from "../sha256.ts";
import { type Policy, parsePolicy } from "./policy.ts";

// The only file of the split engine that touches a Node module: a policy is
// identified by the SHA-256 of its RFC 8785 canonical JSON, computed once when
// it is published or loaded, never per allocation.
export function policyHash(json: unknown): string {
  return canonicalJsonSha256Hex(json);
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
