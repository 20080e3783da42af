import type { FastifyInstance } from "fastify";
import {
  endpoint_description_length_max,
  event_type_filter_length_max,
  event_type_filters_per_request_max,
  id_length_max,
  rotation_overlap_seconds_max,
  webhook_url_length_max,
} from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";

import { listDeliveries, retryDelivery } from "../../service/notifications/deliveries.ts";
import {
  createEndpoint,
  type EndpointPatch,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from "../../service/notifications/endpoints.ts";
import { principalOf } from "../authenticate.ts";
import { webhook_delivery_schema, webhook_endpoint_schema } from "../capability-schemas.ts";
import { limitOf } from "../request-scope.ts";
import { id_params, page_query, pageSchema, problem_schema } from "../schemas.ts";

// Webhook endpoints (Standard Webhooks), their deliveries, and redelivery.
// The schema bounds sizes; the service checks meaning (URL, types, party).

const endpoint_roles = ["platform_admin", "integration", "merchant", "supplier", "party"] as const;
// Generous at the edge so the service can name the limit in its own error.
const types_schema = {
  type: "array",
  maxItems: event_type_filters_per_request_max,
  items: { type: "string", minLength: 1, maxLength: event_type_filter_length_max },
} as const;
const url_schema = { type: "string", minLength: 1, maxLength: webhook_url_length_max * 2 } as const;

export async function webhookRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{
    Body: { url: string; event_types: string[]; party_id?: string | null; description?: string | null };
  }>(
    "/v1/webhook-endpoints",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "Creates an endpoint; the answer carries its whsec_ signing secret, shown this once",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["url", "event_types"],
          properties: {
            url: url_schema,
            event_types: types_schema,
            party_id: { type: ["string", "null"], minLength: 1, maxLength: id_length_max },
            description: { type: ["string", "null"], maxLength: endpoint_description_length_max },
          },
        },
        response: { 201: webhook_endpoint_schema, 400: problem_schema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createEndpoint(ctx, principalOf(request), request.body)),
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/webhook-endpoints",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: pageSchema(webhook_endpoint_schema) },
        summary: "The endpoints the caller may see, by id (cursor pages)",
      },
    },
    async (request) =>
      listEndpoints(ctx, principalOf(request), {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/webhook-endpoints/:id",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "One endpoint",
        params: id_params,
        response: { 200: webhook_endpoint_schema, 404: problem_schema },
      },
    },
    async (request) => getEndpoint(ctx, principalOf(request), request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: EndpointPatch }>(
    "/v1/webhook-endpoints/:id",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "Updates url, event_types or description; status disabled/enabled turns it off and on",
        params: id_params,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            url: url_schema,
            event_types: types_schema,
            description: { type: ["string", "null"], maxLength: endpoint_description_length_max },
            status: { enum: ["enabled", "disabled"] },
          },
        },
        response: { 200: webhook_endpoint_schema, 404: problem_schema },
      },
    },
    async (request) => updateEndpoint(ctx, principalOf(request), request.params.id, request.body),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/webhook-endpoints/:id/disable",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "Disables an endpoint",
        params: id_params,
        response: { 200: webhook_endpoint_schema, 404: problem_schema },
      },
    },
    async (request) => updateEndpoint(ctx, principalOf(request), request.params.id, { status: "disabled" }),
  );

  app.post<{ Params: { id: string }; Body: { overlap_seconds?: number } | null }>(
    "/v1/webhook-endpoints/:id/rotate-secret",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "A new secret; the old one also signs until overlap_seconds (default 24 h) have passed",
        params: id_params,
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: {
            overlap_seconds: { type: "integer", minimum: 0, maximum: rotation_overlap_seconds_max },
          },
        },
        response: { 200: webhook_endpoint_schema, 404: problem_schema },
      },
    },
    async (request) =>
      rotateSecret(ctx, principalOf(request), request.params.id, request.body?.overlap_seconds ?? undefined),
  );

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: string; status?: string } }>(
    "/v1/webhook-endpoints/:id/deliveries",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "The endpoint's deliveries, newest first, each with its attempts' status codes and latency",
        params: id_params,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { ...page_query, status: { enum: ["pending", "succeeded", "dead", "cancelled"] } },
        },
        response: { 200: pageSchema(webhook_delivery_schema), 404: problem_schema },
      },
    },
    async (request) =>
      listDeliveries(ctx, principalOf(request), request.params.id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
        status: request.query.status,
      }),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/webhook-deliveries/:id/retry",
    {
      config: { roles: endpoint_roles },
      schema: {
        tags: ["webhooks"],
        summary: "Redelivers now, with the same webhook-id and body",
        params: id_params,
        response: { 202: webhook_delivery_schema, 404: problem_schema },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await retryDelivery(ctx, principalOf(request), request.params.id)),
  );
}
