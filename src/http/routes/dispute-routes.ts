import type { FastifyInstance } from "fastify";
import { id_length_max, reason_length_max } from "../../core/limits.ts";
import { actorOfPrincipal } from "../../service/audit/actor.ts";
import { caseNotFound, getCase } from "../../service/audit/cases.ts";
import { type DisputeInput, listDisputes, openDispute } from "../../service/audit/disputes.ts";
import { caseTrail } from "../../service/audit/trail.ts";
import type { ServiceContext } from "../../service/context.ts";
import { principalOf } from "../authenticate.ts";
import { component } from "../components.ts";
import { limitOf, scopeOf } from "../request-scope.ts";
import { id_params, idempotency_header, page_query, pageSchema, problem_schema } from "../schemas.ts";
import { case_schema, trail_entry_schema } from "./audit.ts";

// Merchant and supplier disputes (docs/audit.md): a party contests its legs;
// both the party and the platform's reviewers see the case and its trail.

const dispute_schema = component("Dispute", {
  type: "object",
  properties: {
    id: { type: "string" },
    case_id: { type: "string" },
    party_id: { type: "string" },
    order_id: { type: "string" },
    record_id: { type: ["string", "null"] },
    reason: { type: "string" },
    bundle_verified: { type: "boolean" },
    state: { type: "string" },
    created_at: { type: "string", format: "date-time" },
    case: case_schema,
  },
});

export async function disputeRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: DisputeInput }>(
    "/v1/disputes",
    {
      config: { roles: ["merchant", "supplier", "party"] },
      schema: {
        tags: ["disputes"],
        summary:
          "Dispute one of your legs or entries on an order, attaching the proof bundle you were given; opens a case that holds the order's funds until it is decided",
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["order_id", "reason"],
          additionalProperties: false,
          properties: {
            order_id: { type: "string", minLength: 1, maxLength: id_length_max },
            record_id: { type: "string", format: "uuid" },
            reason: { type: "string", minLength: 1, maxLength: reason_length_max },
            bundle: { type: "object", additionalProperties: true },
          },
        },
        response: {
          201: dispute_schema,
          400: problem_schema,
          403: problem_schema,
          404: problem_schema,
          422: problem_schema,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const dispute = await openDispute(ctx, principal, request.body, actorOfPrincipal(principal));
      return reply.status(201).send(dispute);
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/disputes",
    {
      config: {
        roles: ["merchant", "supplier", "party", "platform_admin", "finance", "reviewer", "auditor"],
      },
      schema: {
        tags: ["disputes"],
        summary: "Disputes, newest first: a merchant or supplier sees only its own",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: page_query,
        },
        response: {
          200: pageSchema(dispute_schema),
          400: problem_schema,
        },
      },
    },
    async (request) =>
      listDisputes(ctx.db, scopeOf(request), {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/disputes/:id/case",
    {
      config: {
        roles: ["merchant", "supplier", "party", "platform_admin", "finance", "reviewer", "auditor"],
      },
      schema: {
        tags: ["disputes"],
        summary: "A dispute's case and its trail with proof bundles, as both sides see it (id: the case id)",
        params: id_params,
        response: {
          200: {
            type: "object",
            properties: { case: case_schema, trail: { type: "array", items: trail_entry_schema } },
          },
          404: problem_schema,
        },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const found = await getCase(ctx.db, scope, request.params.id);
      if (found.kind !== "dispute") throw caseNotFound(request.params.id);
      return { case: found, trail: await caseTrail(ctx, scope, request.params.id) };
    },
  );
}
