import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import {
  id_length_max,
  name_length_max,
  path_param_length_max,
  return_window_ms_max,
} from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";
import {
  type AssignmentScope,
  assignments_page_max,
  assignPolicy,
  createPolicyDraft,
  getPolicy,
  listAssignments,
  listPolicies,
  publishPolicy,
} from "../../service/policies.ts";
import { principalOf } from "../authenticate.ts";
import { limitOf, scopeOf } from "../request-scope.ts";
import {
  assignment_schema,
  instant_query,
  page_query,
  pageSchema,
  policy_schema,
  problem_schema,
} from "../schemas.ts";

const platform_roles = ["platform_admin", "finance", "reviewer", "auditor", "integration"] as const;

export async function policyRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: { name: string; body: unknown; return_window_ms?: number } }>(
    "/v1/policies",
    {
      config: { roles: ["platform_admin"] },
      schema: {
        tags: ["policies"],
        summary: "Create a draft split policy (see docs/splits.md for the body)",
        body: {
          type: "object",
          required: ["name", "body"],
          properties: {
            name: { type: "string", minLength: 1, maxLength: name_length_max },
            body: { type: "object" },
            return_window_ms: { type: "integer", minimum: 0, maximum: return_window_ms_max },
          },
          additionalProperties: false,
        },
        response: { 201: policy_schema, 400: problem_schema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createPolicyDraft(ctx, principalOf(request).tenant_id, request.body)),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/policies/:id/publish",
    {
      config: { roles: ["platform_admin"] },
      schema: {
        tags: ["policies"],
        summary: "Publish a draft: it becomes immutable and is named by its SHA-256",
        params: { type: "object", properties: { id: { type: "string", format: "uuid" } } },
        response: { 200: policy_schema },
      },
    },
    async (request) => publishPolicy(ctx, principalOf(request).tenant_id, request.params.id),
  );

  app.get<{ Params: { ref: string } }>(
    "/v1/policies/:ref",
    {
      schema: {
        tags: ["policies"],
        summary:
          "A policy by id or by hash; published policies are readable by every role so anyone can re-compute a split",
        params: { type: "object", properties: { ref: { type: "string", maxLength: path_param_length_max } } },
        response: { 200: policy_schema },
      },
    },
    async (request) => {
      const policy = await getPolicy(ctx.db, principalOf(request).tenant_id, request.params.ref);
      if (policy.status !== "published" && scopeOf(request).party_id !== null) {
        throw new DomainError("policy_not_found", `no policy ${request.params.ref}`, "ref");
      }
      return policy;
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/policies",
    {
      config: { roles: platform_roles },
      schema: {
        tags: ["policies"],
        summary: "Policies, newest first (cursor pages)",
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: pageSchema(policy_schema) },
      },
    },
    async (request) =>
      listPolicies(ctx.db, principalOf(request).tenant_id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.put<{
    Body: { scope: AssignmentScope; scope_value?: string; policy_hash: string; effective_from: string };
  }>(
    "/v1/policy-assignments",
    {
      config: { roles: ["platform_admin"] },
      schema: {
        tags: ["policies"],
        summary:
          "Assign a published policy to the tenant, a merchant or a category from an instant (most specific wins: category, merchant, tenant)",
        body: {
          type: "object",
          required: ["scope", "policy_hash", "effective_from"],
          properties: {
            scope: { enum: ["tenant", "merchant", "category"] },
            scope_value: { type: "string", minLength: 1, maxLength: id_length_max },
            policy_hash: { type: "string", pattern: "^[0-9a-f]{64}$" },
            effective_from: instant_query,
          },
          additionalProperties: false,
        },
        response: { 200: assignment_schema },
      },
    },
    async (request) =>
      assignPolicy(ctx, principalOf(request).tenant_id, {
        ...request.body,
        effective_from: new Date(request.body.effective_from),
      }),
  );

  app.get<{ Querystring: { scope?: AssignmentScope; cursor?: string; limit?: string } }>(
    "/v1/policy-assignments",
    {
      config: { roles: platform_roles },
      schema: {
        tags: ["policies"],
        summary: `Policy assignments by effective instant (cursor pages, limit 1 to ${assignments_page_max})`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { scope: { enum: ["tenant", "merchant", "category"] }, ...page_query },
        },
        response: { 200: pageSchema(assignment_schema) },
      },
    },
    async (request) =>
      listAssignments(ctx.db, principalOf(request).tenant_id, {
        scope: request.query.scope,
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );
}
