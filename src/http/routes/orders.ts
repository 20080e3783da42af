import type { FastifyInstance, FastifyReply } from "fastify";
import { id_length_max, timestamp_length_max } from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";
import type { BookResult } from "../../service/orders/book.ts";
import { bookOrders, clock_skew_ms_max, orders_per_batch_max } from "../../service/orders/book.ts";
import { GroupCommitter } from "../../service/orders/group-commit.ts";
import {
  completeOrder,
  type RefundKind,
  refundOrder,
  releaseOrder,
} from "../../service/orders/order-lifecycle.ts";
import { getOrderDetail, listOrders, type OrderFilters } from "../../service/orders/order-reads.ts";
import { principalOf } from "../authenticate.ts";
import { problemFromDomain } from "../problem.ts";
import { instantOf, limitOf, scopedRead } from "../request-scope.ts";
import {
  batch_result_schema,
  chargeback_view_schema,
  id_params,
  idempotency_header,
  instant_query,
  order_detail_schema,
  order_schema,
  order_summary_schema,
  order_view_schema,
  page_query,
  pageSchema,
  problem_schema,
  refund_schema,
  refund_view_schema,
} from "../schemas.ts";

const writers = ["platform_admin", "integration"] as const;
export const batch_body_limit_bytes = 16 * 1024 * 1024;

export async function orderRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const committer = new GroupCommitter(ctx);

  app.post<{ Body: unknown }>(
    "/v1/orders",
    {
      config: { roles: writers },
      schema: {
        tags: ["orders"],
        summary:
          "Book a paid order: its split goes into each party's held balance (group-committed with concurrent requests)",
        headers: idempotency_header,
        body: order_schema,
        response: {
          200: order_view_schema,
          201: order_view_schema,
          400: problem_schema,
          409: problem_schema,
          422: problem_schema,
        },
      },
    },
    async (request, reply) =>
      sendBooking(reply, await committer.submit(principalOf(request).tenant_id, request.body)),
  );

  app.post<{ Body: { orders: unknown[] } }>(
    "/v1/orders/batch",
    {
      bodyLimit: batch_body_limit_bytes,
      config: { roles: writers },
      schema: {
        tags: ["orders"],
        summary: `Book up to ${orders_per_batch_max} orders in one transaction. Each order gets its own result; a bad order does not sink the others.`,
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["orders"],
          properties: {
            orders: { type: "array", minItems: 1, maxItems: orders_per_batch_max, items: { type: "object" } },
          },
          additionalProperties: false,
        },
        response: { 200: batch_result_schema },
      },
    },
    async (request) => {
      const results = await bookOrders(ctx, principalOf(request).tenant_id, request.body.orders);
      return {
        created: results.filter((r) => r.status === "created").length,
        replayed: results.filter((r) => r.status === "replayed").length,
        rejected: results.filter((r) => r.status === "rejected").length,
        results: results.map((result, index) =>
          result.status === "rejected"
            ? { index, status: "rejected", problem: problemFromDomain(result.error) }
            : { index, status: result.status, order: result.brief },
        ),
      };
    },
  );

  app.post<{ Params: { id: string }; Body: { completed_at?: string } | null | undefined }>(
    "/v1/orders/:id/complete",
    {
      config: { roles: writers },
      schema: {
        tags: ["orders"],
        summary:
          "The buyer confirmed receipt (确认收货); the policy's return window starts at completed_at (the receipt's own time), or now. " +
          `completed_at must be at or after paid_at and at most ${clock_skew_ms_max / 60_000} minutes past the server's clock.`,
        params: id_params,
        headers: idempotency_header,
        // No body at all is "now", as before completed_at existed.
        body: {
          type: ["object", "null"],
          properties: {
            completed_at: { type: "string", format: "date-time", maxLength: timestamp_length_max },
          },
          additionalProperties: false,
        },
        response: { 200: order_view_schema, 404: problem_schema, 409: problem_schema, 422: problem_schema },
      },
    },
    async (request) => {
      const stated = request.body?.completed_at;
      return completeOrder(
        ctx,
        principalOf(request).tenant_id,
        request.params.id,
        stated === undefined ? undefined : new Date(stated),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    "/v1/orders/:id/release",
    {
      config: { roles: ["platform_admin", "finance"] },
      schema: {
        tags: ["orders"],
        summary: "Release held shares to available now, before the window ends (finance override)",
        params: id_params,
        headers: idempotency_header,
        response: { 200: order_view_schema, 404: problem_schema },
      },
    },
    async (request) => releaseOrder(ctx, principalOf(request).tenant_id, request.params.id),
  );

  for (const [path, kind] of [
    ["refunds", "refund"],
    ["chargebacks", "chargeback"],
  ] as const) {
    app.post<{ Params: { id: string }; Body: unknown }>(
      `/v1/orders/:id/${path}`,
      {
        config: { roles: ["platform_admin", "integration", "finance"] },
        schema: {
          tags: ["orders"],
          summary:
            kind === "refund"
              ? "Refund by lines and quantities or by amount; every party gives back its proportional share (from held, or from available with any shortfall as debt)"
              : "Book a chargeback: like a refund, with its own kind",
          params: id_params,
          headers: idempotency_header,
          body: refund_schema,
          response: {
            ...Object.fromEntries(
              [200, 201].map((status) => [
                status,
                {
                  description:
                    status === 201 ? `The ${kind} was booked` : `The ${kind} was booked before (a replay)`,
                  type: "object",
                  required: ["order", "refund"],
                  properties: {
                    order: order_view_schema,
                    refund: kind === "refund" ? refund_view_schema : chargeback_view_schema,
                  },
                },
              ]),
            ),
            404: problem_schema,
            422: problem_schema,
          },
        },
      },
      async (request, reply) => {
        const result = await refundOrder(
          ctx,
          principalOf(request).tenant_id,
          request.params.id,
          request.body,
          kind as RefundKind,
        );
        return reply.status(result.replayed ? 200 : 201).send({ order: result.order, refund: result.refund });
      },
    );
  }

  app.get<{
    Querystring: {
      merchant_id?: string;
      party_id?: string;
      state?: OrderFilters["state"];
      paid_from?: string;
      paid_to?: string;
      cursor?: string;
      limit?: string;
    };
  }>(
    "/v1/orders",
    {
      schema: {
        tags: ["orders"],
        summary: "Orders, newest first; party-scoped callers see only orders they have a share in",
        querystring: {
          type: "object",
          properties: {
            merchant_id: { type: "string", maxLength: id_length_max },
            party_id: { type: "string", maxLength: id_length_max },
            state: { enum: ["held", "completed", "released", "partially_refunded", "refunded"] },
            paid_from: instant_query,
            paid_to: instant_query,
            ...page_query,
          },
        },
        response: { 200: pageSchema(order_summary_schema) },
      },
    },
    async (request) => {
      const q = request.query;
      return scopedRead(ctx.db, request, (tx, scope) =>
        listOrders(tx, scope, {
          merchant_id: q.merchant_id,
          party_id: q.party_id,
          state: q.state,
          paid_from: instantOf(q.paid_from),
          paid_to: instantOf(q.paid_to),
          cursor: q.cursor,
          limit: limitOf(q.limit),
        }),
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/orders/:id",
    {
      schema: {
        tags: ["orders"],
        summary: "An order: facts, split with explanations, refunds, journal transactions and state",
        params: id_params,
        response: { 200: order_detail_schema, 404: problem_schema },
      },
    },
    async (request) =>
      scopedRead(ctx.db, request, (tx, scope) => getOrderDetail(tx, scope, request.params.id)),
  );
}

function sendBooking(reply: FastifyReply, result: BookResult): FastifyReply {
  if (result.status === "rejected") throw result.error;
  return reply.status(result.status === "created" ? 201 : 200).send(result.order);
}
