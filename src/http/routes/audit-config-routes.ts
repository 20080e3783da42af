import type { FastifyInstance } from "fastify";
import { name_length_max, rule_id_length_max, rules_per_config_max } from "../../core/limits.ts";
import { actorOfPrincipal } from "../../service/audit/actor.ts";
import { backtest_orders_max, backtestConfig } from "../../service/audit/backtest.ts";
import {
  createAuditConfigDraft,
  listAuditConfigs,
  publishAuditConfig,
  selectConfig,
} from "../../service/audit/configs.ts";
import type { ServiceContext } from "../../service/context.ts";
import { principalOf } from "../authenticate.ts";
import { component } from "../components.ts";
import { limitOf } from "../request-scope.ts";
import { id_params, idempotency_header, page_query, pageSchema } from "../schemas.ts";
import { audit_errors } from "./audit.ts";

// The audit rules' configurations: drafted, published (in force from then),
// and back-tested in shadow mode over a period (docs/audit.md).

const readers = ["platform_admin", "finance", "reviewer", "auditor"] as const;
const tuners = ["platform_admin", "finance"] as const;

const config_schema = component("AuditConfig", {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    name: { type: "string" },
    status: { enum: ["draft", "published"] },
    hash: { type: "string" },
    body: { type: "object", additionalProperties: true },
    created_at: { type: "string", format: "date-time" },
    created_by: { type: "string" },
    published_at: { type: ["string", "null"], format: "date-time" },
    published_by: { type: ["string", "null"] },
  },
});

export async function auditConfigRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/audit/configs",
    {
      config: { roles: readers },
      schema: {
        tags: ["audit"],
        summary: "Rule configurations, newest first (cursor pages); the newest published one is in force",
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: pageSchema(config_schema) },
      },
    },
    async (request) =>
      listAuditConfigs(ctx.db, principalOf(request).tenant_id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.post<{ Body: { name: string; body: unknown } }>(
    "/v1/audit/configs",
    {
      config: { roles: tuners },
      schema: {
        tags: ["audit"],
        summary:
          "Draft a rule configuration: {four_eyes_minor, rules: [{id, params}]}. It is normalised and named by the SHA-256 of its canonical JSON",
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["name", "body"],
          additionalProperties: false,
          properties: {
            name: { type: "string", minLength: 1, maxLength: name_length_max },
            body: {
              type: "object",
              required: ["four_eyes_minor", "rules"],
              properties: {
                four_eyes_minor: { type: "integer", minimum: 0 },
                rules: {
                  type: "array",
                  maxItems: rules_per_config_max,
                  items: {
                    type: "object",
                    required: ["id"],
                    properties: {
                      id: { type: "string", maxLength: rule_id_length_max },
                      params: { type: "object" },
                    },
                  },
                },
              },
            },
          },
        },
        response: { 201: config_schema, ...audit_errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const view = await createAuditConfigDraft(
        ctx,
        principal.tenant_id,
        request.body,
        actorOfPrincipal(principal),
      );
      return reply.status(201).send(view);
    },
  );

  app.post<{ Params: { id: string } }>(
    "/v1/audit/configs/:id/publish",
    {
      config: { roles: tuners },
      schema: {
        tags: ["audit"],
        summary: "Publish a draft configuration: it is in force from now, and its publication is logged",
        params: id_params,
        headers: idempotency_header,
        response: { 200: config_schema, ...audit_errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return publishAuditConfig(ctx, principal.tenant_id, request.params.id, actorOfPrincipal(principal));
    },
  );

  app.post<{ Params: { id: string }; Body: { from: string; to: string; orders_max?: number } }>(
    "/v1/audit/configs/:id/backtest",
    {
      config: { roles: readers },
      schema: {
        tags: ["audit"],
        summary:
          "Shadow mode: run a configuration over orders paid in [from, to) without opening cases; report the hits it would have made per rule",
        params: id_params,
        body: {
          type: "object",
          required: ["from", "to"],
          additionalProperties: false,
          properties: {
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
            orders_max: { type: "integer", minimum: 1, maximum: backtest_orders_max },
          },
        },
        response: { 200: backtest_schema, ...audit_errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await selectConfig(ctx.db, principal.tenant_id, request.params.id);
      return backtestConfig(ctx.db, principal.tenant_id, request.params.id, {
        from: new Date(request.body.from),
        to: new Date(request.body.to),
        orders_max: request.body.orders_max,
      });
    },
  );
}

const backtest_schema = component("AuditBacktest", {
  type: "object",
  properties: {
    config_id: { type: "string" },
    config_hash: { type: "string" },
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
    orders_evaluated: { type: "integer" },
    refunds_evaluated: { type: "integer" },
    truncated: { type: "boolean" },
    rules: {
      type: "array",
      items: {
        type: "object",
        properties: {
          rule_id: { type: "string" },
          hits: { type: "integer" },
          sample: {
            type: "array",
            items: {
              type: "object",
              properties: {
                order_id: { type: ["string", "null"] },
                party_id: { type: ["string", "null"] },
                reason: { type: "string" },
              },
            },
          },
        },
      },
    },
  },
});
