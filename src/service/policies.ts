import { DomainError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import {
  name_length_max,
  policies_page_items_default,
  policies_page_items_max,
  return_window_ms_max,
} from "../core/limits.ts";
import type { PolicyRecord } from "../core/log/records.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../core/page.ts";
import { loadPolicy, type Policy } from "../core/split/index.ts";
import type { Queryable } from "../store/database.ts";
import {
  insertPolicyDraft,
  markPolicyPublished,
  type PolicyRow,
  selectPolicies,
  selectPolicyByHash,
  selectPolicyById,
} from "../store/policies-sql.ts";
import { type AssignmentRow, insertAssignment, selectAssignments } from "../store/policy-assignments-sql.ts";
import { inTransaction } from "../store/retry.ts";
import type { ServiceContext } from "./context.ts";
import { enqueueLogRecords } from "./tlog/record-enqueue.ts";

// Split policies: drafts are edited freely; publishing fixes the body, names it
// by the SHA-256 of its canonical JSON, and records it in the transparency log.
// Assignments say which published policy applies to which orders, from when.

export const default_return_window_ms = 7 * 24 * 3_600_000;

export type PolicyView = PolicyRow;

export interface PolicyDraftInput {
  name: string;
  body: unknown;
  return_window_ms?: number | undefined;
}

export async function createPolicyDraft(
  ctx: ServiceContext,
  tenant_id: string,
  input: PolicyDraftInput,
): Promise<PolicyView> {
  if (typeof input.name !== "string" || input.name.length < 1 || input.name.length > name_length_max) {
    throw new DomainError("name_invalid", `name must be 1 to ${name_length_max} characters`, "name");
  }
  loadPolicy(input.body); // Refuse a draft that could never be published, naming the field.
  const return_window_ms = input.return_window_ms ?? default_return_window_ms;
  if (
    !Number.isSafeInteger(return_window_ms) ||
    return_window_ms < 0 ||
    return_window_ms > return_window_ms_max
  ) {
    throw new DomainError(
      "return_window_invalid",
      `return_window_ms must be 0 to ${return_window_ms_max}`,
      "return_window_ms",
    );
  }
  const id = newId();
  const now = ctx.now();
  await insertPolicyDraft(
    ctx.db,
    tenant_id,
    { id, name: input.name, body: input.body, return_window_ms },
    now,
  );
  return {
    id,
    name: input.name,
    status: "draft",
    hash: null,
    return_window_ms,
    body: input.body,
    created_at: now,
    published_at: null,
  };
}

/** Publishes a draft. Publishing a published policy returns it unchanged. */
export function publishPolicy(
  ctx: ServiceContext,
  tenant_id: string,
  policy_id: string,
): Promise<PolicyView> {
  return inTransaction(ctx.db, async (tx) => {
    const row = await selectPolicyById(tx, tenant_id, policy_id, true);
    if (row === undefined) throw new DomainError("policy_not_found", `no policy ${policy_id}`, "id");
    if (row.status === "published") return row;
    const { policy_hash } = loadPolicy(row.body);
    const taken = await selectPolicyByHash(tx, tenant_id, policy_hash);
    if (taken !== undefined) return taken;
    const now = ctx.now();
    await markPolicyPublished(tx, tenant_id, policy_id, policy_hash, now);
    const published: PolicyView = { ...row, status: "published", hash: policy_hash, published_at: now };
    await enqueueLogRecords(
      tx,
      tenant_id,
      [{ id: policy_id, kind: "policy", record: policyRecord(published), party_ids: [] }],
      now,
    );
    return published;
  });
}

export function policyRecord(policy: PolicyView): PolicyRecord {
  if (policy.hash === null || policy.published_at === null)
    throw new Error("only published policies are records");
  return {
    type: "policy",
    id: policy.id,
    name: policy.name,
    hash: policy.hash,
    published_at: policy.published_at.toISOString(),
    body: policy.body,
  };
}

export async function getPolicy(db: Queryable, tenant_id: string, id_or_hash: string): Promise<PolicyView> {
  const by_hash = /^[0-9a-f]{64}$/.test(id_or_hash);
  const by_id = /^[0-9a-f-]{36}$/.test(id_or_hash);
  const row = by_hash
    ? await selectPolicyByHash(db, tenant_id, id_or_hash)
    : by_id
      ? await selectPolicyById(db, tenant_id, id_or_hash)
      : undefined;
  if (row === undefined) throw new DomainError("policy_not_found", `no policy ${id_or_hash}`, "id");
  return row;
}

/** The tenant's policies newest first, one cursor page. */
export async function listPolicies(
  db: Queryable,
  tenant_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<PolicyView>> {
  const limit = pageLimit(options.limit, policies_page_items_default, policies_page_items_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("policies", options.cursor, ["instant", "uuid"]);
  const rows = await selectPolicies(db, tenant_id, { before, limit: limit + 1 });
  return pageOf(rows, limit, "policies", (row) => [row.created_at, row.id]);
}

export type AssignmentScope = "tenant" | "merchant" | "category";

export interface AssignmentInput {
  scope: AssignmentScope;
  scope_value?: string | undefined;
  policy_hash: string;
  effective_from: Date;
}

export async function assignPolicy(ctx: ServiceContext, tenant_id: string, input: AssignmentInput) {
  if (!["tenant", "merchant", "category"].includes(input.scope)) {
    throw new DomainError("scope_invalid", "scope must be tenant, merchant or category", "scope");
  }
  const scope_value = input.scope === "tenant" ? "" : (input.scope_value ?? "");
  if (input.scope !== "tenant" && (scope_value.length < 1 || scope_value.length > 128)) {
    throw new DomainError(
      "scope_value_invalid",
      `a ${input.scope} assignment needs scope_value`,
      "scope_value",
    );
  }
  const policy = await selectPolicyByHash(ctx.db, tenant_id, input.policy_hash);
  if (policy === undefined)
    throw new DomainError("policy_not_found", `no published policy ${input.policy_hash}`, "policy_hash");
  const id = newId();
  const created_at = ctx.now();
  await insertAssignment(ctx.db, tenant_id, {
    id,
    scope: input.scope,
    scope_value,
    policy_hash: input.policy_hash,
    effective_from: input.effective_from,
    created_at,
  });
  return {
    id,
    scope: input.scope,
    scope_value,
    policy_hash: input.policy_hash,
    effective_from: input.effective_from,
    created_at,
  };
}

export const assignments_page_max = 200;

/** The tenant's policy assignments by effective instant, one cursor page. */
export async function listAssignments(
  db: Queryable,
  tenant_id: string,
  options: { scope?: string | undefined; limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<AssignmentRow>> {
  const limit = pageLimit(options.limit, 50, assignments_page_max);
  const after =
    options.cursor === undefined ? null : decodeCursor("assignments", options.cursor, ["instant", "uuid"]);
  const rows = await selectAssignments(db, tenant_id, {
    scope: options.scope ?? null,
    after,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "assignments", (row) => [new Date(row.effective_from), row.id]);
}

export interface ResolvedPolicy {
  policy: Policy;
  policy_hash: string;
  return_window_ms: number;
}
