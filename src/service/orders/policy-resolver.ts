import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { loadPolicy, type Order } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPoliciesByHash } from "../../store/policies-sql.ts";
import { selectApplicableAssignments } from "../../store/policy-assignments-sql.ts";
import type { ResolvedPolicy } from "../policies.ts";

// Published policies never change, so a process may keep every one it has
// loaded. Assignments can be added at any time and are read per batch.
const published_cache = new Map<string, ResolvedPolicy>();
const published_cache_max = 1_000;

export interface PolicyResolver {
  /** The policy in force for this order at its paid_at: category beats merchant beats tenant. */
  resolve(order: Order): ResolvedPolicy;
}

/** Fills the cache with these published policies; a hash not in the table is left out. */
async function loadPublished(tx: Queryable, tenant_id: string, hashes: readonly string[]): Promise<void> {
  const missing = [...new Set(hashes)].filter((hash) => !published_cache.has(`${tenant_id}:${hash}`));
  if (missing.length === 0) return;
  const rows = await selectPoliciesByHash(tx, tenant_id, missing);
  if (published_cache.size > published_cache_max) published_cache.clear();
  for (const row of rows) {
    const { policy, policy_hash } = loadPolicy(row.body);
    assert(policy_hash === row.hash, `policy ${row.hash} hashes to ${policy_hash}`);
    published_cache.set(`${tenant_id}:${row.hash}`, {
      policy,
      policy_hash,
      return_window_ms: Number(row.return_window_ms),
    });
  }
}

/** Published policies by hash, from the cache or the table; every hash must exist. */
export async function publishedPolicies(
  tx: Queryable,
  tenant_id: string,
  hashes: readonly string[],
): Promise<(hash: string) => ResolvedPolicy> {
  await loadPublished(tx, tenant_id, hashes);
  const found = new Map<string, ResolvedPolicy>();
  for (const hash of hashes) {
    const resolved = published_cache.get(`${tenant_id}:${hash}`);
    assert(resolved !== undefined, `policy ${hash} is missing`);
    found.set(hash, resolved);
  }
  return (hash) => {
    const resolved = found.get(hash);
    assert(resolved !== undefined, `policy ${hash} was not loaded`);
    return resolved;
  };
}

export async function loadPolicyResolver(
  tx: Queryable,
  tenant_id: string,
  orders: readonly Order[],
): Promise<PolicyResolver> {
  const merchants = [...new Set(orders.map((order) => order.merchant_id))];
  const categories = [...new Set(orders.flatMap((order) => order.lines.map((line) => line.category)))];
  const assignments = await selectApplicableAssignments(tx, tenant_id, merchants, categories);
  await loadPublished(
    tx,
    tenant_id,
    assignments.map((a) => a.policy_hash),
  );
  return {
    resolve(order) {
      const paid_at_ms = Date.parse(order.paid_at);
      const in_force = assignments.filter((a) => a.effective_from.getTime() <= paid_at_ms);
      const order_categories = new Set(order.lines.map((line) => line.category));
      const single_category = order_categories.size === 1 ? [...order_categories][0] : undefined;
      const chosen =
        in_force.find((a) => a.scope === "category" && a.scope_value === single_category) ??
        in_force.find((a) => a.scope === "merchant" && a.scope_value === order.merchant_id) ??
        in_force.find((a) => a.scope === "tenant");
      if (chosen === undefined) {
        throw new DomainError(
          "policy_not_assigned",
          `no split policy is assigned for orders paid at ${order.paid_at}`,
          "paid_at",
        );
      }
      const resolved = published_cache.get(`${tenant_id}:${chosen.policy_hash}`);
      if (resolved === undefined)
        throw new DomainError("policy_not_found", `policy ${chosen.policy_hash} is not published`, "paid_at");
      return resolved;
    },
  };
}
