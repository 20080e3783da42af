import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import type { ServiceContext } from "../../service/context.ts";
import { overview_days_max, platformOverview } from "../../service/stats/overview.ts";
import { principalOf } from "../authenticate.ts";
import { problem_schema } from "../schemas.ts";

const money = { type: "integer", description: "minor units of `currency`" } as const;
const count = { type: "integer" } as const;

const currency_overview_schema = {
  type: "object",
  properties: {
    currency: { type: "string" },
    orders: count,
    gmv_minor: money,
    commission_minor: { ...money, description: "the platform's net share from splits less reversals" },
    subsidies_minor: { ...money, description: "platform-funded coupons on the period's orders" },
    refunds: { type: "object", properties: { count, amount_minor: money } },
    chargebacks: { type: "object", properties: { count, amount_minor: money } },
    balances: {
      type: "object",
      description: "every party's balances now, by purpose; debt is what parties owe, as a positive amount",
      properties: {
        held_minor: money,
        available_minor: money,
        in_transit_minor: money,
        paid_out_minor: money,
        debt_minor: money,
      },
    },
    by_day: {
      type: "array",
      items: {
        type: "object",
        properties: {
          day: { type: "string", format: "date" },
          orders: count,
          gmv_minor: money,
          refunds_minor: money,
          chargebacks_minor: money,
        },
      },
    },
    by_category: {
      type: "array",
      items: {
        type: "object",
        properties: { category: { type: "string" }, lines: count, gross_minor: money },
      },
    },
  },
} as const;

/** The platform dashboard's figures: one read, platform roles only. */
export async function statsRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Querystring: { days?: string } }>(
    "/v1/stats/overview",
    {
      config: { roles: ["platform_admin", "finance", "reviewer", "auditor"] },
      schema: {
        tags: ["stats"],
        summary:
          "GMV, commission, subsidies, refunds, chargebacks, balances by purpose, and series by UTC day and category for the last `days` days",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { days: { type: "string", pattern: "^[0-9]{1,3}$" } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              from: { type: "string", format: "date-time" },
              to: { type: "string", format: "date-time" },
              days: count,
              currencies: { type: "array", items: currency_overview_schema },
            },
          },
          400: problem_schema,
        },
      },
    },
    async (request) => {
      const days = Number(request.query.days ?? 30);
      if (!Number.isInteger(days) || days < 1 || days > overview_days_max)
        throw new DomainError("days_invalid", `days must be 1 to ${overview_days_max}`, "days");
      return platformOverview(ctx.db, principalOf(request).tenant_id, { days, now: ctx.now() });
    },
  );
}
