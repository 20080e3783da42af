import type { FastifyInstance } from "fastify";
import { case_states } from "../../core/audit/four-eyes.ts";
import {
  adjustment_entries_max,
  cases_page_max,
  comment_length_max,
  id_length_max,
  purpose_length_max,
  reason_length_max,
  rule_id_length_max,
} from "../../core/limits.ts";
import { actorOfPrincipal } from "../../service/audit/actor.ts";
import {
  type CaseFilters,
  claimCase,
  commentOnCase,
  flagOrder,
  getCase,
  listCases,
} from "../../service/audit/cases.ts";
import { type DecisionInput, decideCase } from "../../service/audit/decide-case.ts";
import { caseTrailPage } from "../../service/audit/trail.ts";
import type { ServiceContext } from "../../service/context.ts";
import { principalOf } from "../authenticate.ts";
import { component } from "../components.ts";
import { instantOf, limitOf, scopeOf } from "../request-scope.ts";
import {
  id_params,
  idempotency_header,
  instant_query,
  next_cursor_schema,
  page_query,
  pageSchema,
  problem_schema,
} from "../schemas.ts";

// The review queue: cases, their decisions and trails (docs/audit.md). The
// rules' configurations are in audit-config-routes.ts.

const readers = ["platform_admin", "finance", "reviewer", "auditor"] as const;
const deciders = ["platform_admin", "finance", "reviewer"] as const;
const tuners = ["platform_admin", "finance"] as const;

export const case_schema = component("AuditCase", {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    kind: { enum: ["rule", "manual", "dispute"] },
    state: { enum: [...case_states] },
    order_id: { type: ["string", "null"] },
    party_id: { type: ["string", "null"] },
    rule_ids: { type: "array", items: { type: "string" } },
    amount_minor: { type: "integer" },
    currency: { type: "string" },
    config_hash: { type: ["string", "null"] },
    opened_at: { type: "string", format: "date-time" },
    opened_by: { type: "string" },
    claimed_by: { type: ["string", "null"] },
    claimed_at: { type: ["string", "null"], format: "date-time" },
    pending: {
      type: ["object", "null"],
      properties: {
        decision: { type: "string" },
        person: { type: "string" },
        reason: { type: "string" },
        at: { type: "string" },
      },
    },
    decided_at: { type: ["string", "null"], format: "date-time" },
  },
});

/** The problem answers every audit route may give (the configuration routes' too). */
export const audit_errors = {
  400: problem_schema,
  403: problem_schema,
  404: problem_schema,
  409: problem_schema,
  422: problem_schema,
};

export async function auditRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{
    Querystring: {
      state?: string;
      rule_id?: string;
      party_id?: string;
      order_id?: string;
      kind?: string;
      amount_min_minor?: string;
      amount_max_minor?: string;
      opened_before?: string;
      opened_after?: string;
      cursor?: string;
      limit?: string;
    };
  }>(
    "/v1/audit/cases",
    {
      config: { roles: readers },
      schema: {
        tags: ["audit"],
        summary:
          "The review queue: cases newest first, filtered by state, rule, party, order, amount and age",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            state: { enum: ["any_open", ...case_states] },
            rule_id: { type: "string", maxLength: rule_id_length_max },
            party_id: { type: "string", maxLength: id_length_max },
            order_id: { type: "string", maxLength: id_length_max },
            kind: { enum: ["rule", "manual", "dispute"] },
            amount_min_minor: { type: "string", pattern: "^[0-9]{1,15}$" },
            amount_max_minor: { type: "string", pattern: "^[0-9]{1,15}$" },
            opened_before: instant_query,
            opened_after: instant_query,
            cursor: page_query.cursor,
            limit: { type: "string", pattern: "^[0-9]{1,4}$", description: `1 to ${cases_page_max}` },
          },
        },
        response: {
          200: pageSchema(case_schema),
          400: problem_schema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const filters: CaseFilters = {
        state: q.state as CaseFilters["state"],
        rule_id: q.rule_id,
        party_id: q.party_id,
        order_id: q.order_id,
        kind: q.kind as CaseFilters["kind"],
        amount_min_minor: q.amount_min_minor === undefined ? undefined : BigInt(q.amount_min_minor),
        amount_max_minor: q.amount_max_minor === undefined ? undefined : BigInt(q.amount_max_minor),
        opened_before: instantOf(q.opened_before),
        opened_after: instantOf(q.opened_after),
        cursor: q.cursor,
        limit: limitOf(q.limit),
      };
      return listCases(ctx.db, principalOf(request).tenant_id, filters);
    },
  );

  app.post<{ Body: { order_id: string; reason: string } }>(
    "/v1/audit/cases",
    {
      config: { roles: tuners },
      schema: {
        tags: ["audit"],
        summary: "Flag an order by hand (the manual_flag rule): opens a case on it, or adds to its open one",
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["order_id", "reason"],
          additionalProperties: false,
          properties: {
            order_id: { type: "string", minLength: 1, maxLength: id_length_max },
            reason: { type: "string", minLength: 1, maxLength: reason_length_max },
          },
        },
        response: { 201: case_schema, ...audit_errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const view = await flagOrder(ctx, principal.tenant_id, request.body, actorOfPrincipal(principal));
      return reply.status(201).send(view);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/audit/cases/:id",
    {
      config: { roles: readers },
      schema: {
        tags: ["audit"],
        summary: "A case with its hits: each rule's reason, inputs, and the configuration hash it ran under",
        params: id_params,
        response: {
          200: {
            allOf: [case_schema],
            type: "object",
            properties: {
              hits: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    rule_id: { type: "string" },
                    reason: { type: "string" },
                    inputs: { type: "object", additionalProperties: true },
                    inputs_sha256: { type: "string" },
                    config_hash: { type: ["string", "null"] },
                    created_at: { type: "string", format: "date-time" },
                  },
                },
              },
            },
          },
          404: problem_schema,
        },
      },
    },
    async (request) => getCase(ctx.db, scopeOf(request), request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/audit/cases/:id/claim",
    {
      config: { roles: deciders },
      schema: {
        tags: ["audit"],
        summary: "Claim a case: its first decision is then the claimant's",
        params: id_params,
        headers: idempotency_header,
        response: { 200: case_schema, ...audit_errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return claimCase(ctx, principal.tenant_id, request.params.id, actorOfPrincipal(principal));
    },
  );

  app.post<{ Params: { id: string }; Body: { body: string } }>(
    "/v1/audit/cases/:id/comments",
    {
      config: { roles: deciders },
      schema: {
        tags: ["audit"],
        summary: "Comment on a case; the comment is a record of the transparency log",
        params: id_params,
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["body"],
          additionalProperties: false,
          properties: { body: { type: "string", description: `1 to ${comment_length_max} characters` } },
        },
        response: {
          201: {
            type: "object",
            properties: {
              id: { type: "string" },
              case_id: { type: "string" },
              actor: { type: "string" },
              body: { type: "string" },
              created_at: { type: "string", format: "date-time" },
            },
          },
          ...audit_errors,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const comment = await commentOnCase(
        ctx,
        principal.tenant_id,
        request.params.id,
        request.body.body,
        actorOfPrincipal(principal),
      );
      return reply.status(201).send(comment);
    },
  );

  app.post<{ Params: { id: string }; Body: DecisionInput }>(
    "/v1/audit/cases/:id/decisions",
    {
      config: { roles: deciders },
      schema: {
        tags: ["audit"],
        summary:
          "Decide a case: approve (funds flow again), reverse (the order's split into the platform's suspense account) or adjust (a correcting journal transaction); reject refuses a first decision awaiting its second. At or above the configuration's four_eyes_minor a decision needs two different people",
        params: id_params,
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["decision", "reason"],
          additionalProperties: false,
          properties: {
            decision: { enum: ["approve", "reverse", "adjust", "reject"] },
            reason: { type: "string", minLength: 1, maxLength: reason_length_max },
            entries: {
              type: "array",
              description: "adjust only: balanced entries in the case's currency",
              maxItems: adjustment_entries_max,
              items: {
                type: "object",
                required: ["party_id", "purpose", "side", "amount_minor"],
                additionalProperties: false,
                properties: {
                  party_id: { type: "string", minLength: 1, maxLength: id_length_max },
                  purpose: { type: "string", maxLength: purpose_length_max },
                  side: { enum: ["debit", "credit"] },
                  amount_minor: { type: "integer", minimum: 1 },
                },
              },
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: { case: case_schema, transaction_id: { type: ["string", "null"] } },
          },
          ...audit_errors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return decideCase(
        ctx,
        principal.tenant_id,
        request.params.id,
        request.body,
        actorOfPrincipal(principal),
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: string } }>(
    "/v1/audit/cases/:id/trail",
    {
      config: { roles: readers },
      schema: {
        tags: ["audit"],
        summary:
          "Every action on the case, oldest first, each with its proof bundle (null until the next checkpoint); `clearsplit verify bundle` checks each offline",
        params: id_params,
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: trail_schema, 404: problem_schema },
      },
    },
    async (request) =>
      caseTrailPage(ctx, scopeOf(request), request.params.id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );
}

export const trail_entry_schema = component("AuditTrailEntry", {
  type: "object",
  description: "One action on a case, with the proof bundle of its log record.",
  properties: {
    action: { type: "object", additionalProperties: true },
    bundle: { type: ["object", "null"], additionalProperties: true },
  },
});

export const trail_schema = component("AuditTrail", {
  type: "object",
  required: ["items", "next_cursor"],
  properties: { items: { type: "array", items: trail_entry_schema }, next_cursor: next_cursor_schema },
});
