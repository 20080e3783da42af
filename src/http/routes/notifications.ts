import type { FastifyInstance } from "fastify";
import {
  event_type_length_max,
  path_param_length_max,
  preferences_per_request_max,
} from "../../core/limits.ts";
import { deliveries, event_types, languages } from "../../core/notifications/event-types.ts";
import type { ServiceContext } from "../../service/context.ts";
import { listInbox, markAllRead, markRead } from "../../service/notifications/inbox.ts";
import { mailConfigFromEnv } from "../../service/notifications/mailer.ts";
import { getPreferences, setPreferences } from "../../service/notifications/preferences.ts";
import { notificationStatus } from "../../service/notifications/status.ts";
import { sendTestNotification } from "../../service/notifications/test-notification.ts";
import { principalOf } from "../authenticate.ts";
import {
  event_type_schema,
  inbox_page_schema,
  inbox_read_schema,
  notification_status_schema,
  preferences_schema,
  test_notification_schema,
} from "../capability-schemas.ts";
import { limitOf } from "../request-scope.ts";
import { id_params, itemsSchema, page_query, problem_schema } from "../schemas.ts";

// The in-app inbox, preferences, the test notification and the dispatcher's
// status. Who may see an item is decided when it is made (role, party,
// preference) and again when it is read (row-level security).

const event_type_name = { type: "string", minLength: 1, maxLength: event_type_length_max } as const;

export async function notificationRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Querystring: { cursor?: string; limit?: string; unread?: "true" | "false" } }>(
    "/v1/inbox",
    {
      schema: {
        tags: ["notifications"],
        response: { 200: inbox_page_schema },
        summary: "The caller's inbox, newest first, with its unread count (cursor pages)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { ...page_query, unread: { enum: ["true", "false"] } },
        },
      },
    },
    async (request) =>
      listInbox(ctx, principalOf(request), {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
        unread_only: request.query.unread === "true",
      }),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/inbox/:id/read",
    {
      schema: {
        tags: ["notifications"],
        summary: "Marks one inbox item read",
        params: id_params,
        response: { 200: inbox_read_schema, 404: problem_schema },
      },
    },
    async (request) => markRead(ctx, principalOf(request), request.params.id),
  );

  app.post(
    "/v1/inbox/read-all",
    {
      schema: {
        tags: ["notifications"],
        response: { 200: inbox_read_schema },
        summary: "Marks every inbox item of the caller read",
      },
    },
    async (request) => markAllRead(ctx, principalOf(request)),
  );

  app.get(
    "/v1/notifications/preferences",
    {
      schema: {
        tags: ["notifications"],
        response: { 200: preferences_schema },
        summary: "The caller's language and delivery per event type",
      },
    },
    async (request) => getPreferences(ctx, principalOf(request)),
  );

  app.put<{ Body: { language?: string; preferences?: { event_type: string; delivery: string }[] } }>(
    "/v1/notifications/preferences",
    {
      schema: {
        tags: ["notifications"],
        summary: "Sets the caller's language and, per event type, inbox, email, both, digest (daily) or none",
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            language: { enum: [...languages] },
            preferences: {
              type: "array",
              maxItems: preferences_per_request_max,
              items: {
                type: "object",
                additionalProperties: false,
                required: ["event_type", "delivery"],
                properties: { event_type: event_type_name, delivery: { enum: [...deliveries] } },
              },
            },
          },
        },
        response: { 200: preferences_schema, 400: problem_schema },
      },
    },
    async (request) => setPreferences(ctx, principalOf(request), request.body),
  );

  app.post<{ Body: { endpoint_id?: string } | null }>(
    "/v1/notifications/test",
    {
      schema: {
        tags: ["notifications"],
        summary:
          "Sends a test notification to the caller's channels, and a webhook.test message to an endpoint",
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { endpoint_id: { type: "string", minLength: 1, maxLength: path_param_length_max } },
        },
        response: { 202: test_notification_schema, 404: problem_schema },
      },
    },
    async (request, reply) => {
      const result = await sendTestNotification(ctx, principalOf(request), {
        endpoint_id: request.body?.endpoint_id,
      });
      return reply.status(202).send(result);
    },
  );

  const transport = mailConfigFromEnv().smtp_url === null ? "eml" : "smtp";
  app.get(
    "/v1/notifications/status",
    {
      config: { roles: ["platform_admin", "finance", "auditor"] },
      schema: {
        tags: ["notifications"],
        response: { 200: notification_status_schema },
        summary: "Dispatcher backlog per channel, webhook queue, and mail queue with the last SMTP error",
      },
    },
    async (request) => notificationStatus(ctx, principalOf(request).tenant_id, transport),
  );

  app.get(
    "/v1/event-types",
    {
      schema: {
        tags: ["notifications"],
        response: { 200: itemsSchema(event_type_schema) },
        summary: "Event types, who is told by default, and whether webhooks may subscribe",
      },
    },
    async () => ({
      items: [...event_types.values()].map((spec) => ({
        type: spec.type,
        webhook: spec.webhook,
        platform_roles: spec.platform_roles,
        platform_default: spec.platform_default,
        party_default: spec.party_default,
      })),
    }),
  );
}
