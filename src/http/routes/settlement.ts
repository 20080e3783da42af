import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import {
  failure_reason_length_max,
  id_length_max,
  lag_days_max,
  name_length_max,
  named_parties_max,
  payout_account_ref_length_max,
  provider_reference_length_max,
  timestamp_length_max,
} from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";
import { type PartyStatus, party_statuses, updateParty } from "../../service/settlement/party-profile.ts";
import { payoutFileOfRun } from "../../service/settlement/payout-file-export.ts";
import { getPayout, listPayouts, payoutView, resolvePayoutResult } from "../../service/settlement/payouts.ts";
import { orderSettlement, partySettlement } from "../../service/settlement/settlement-progress.ts";
import { runSettlement, runSummaryJson } from "../../service/settlement/settlement-run.ts";
import { principalOf } from "../authenticate.ts";
import {
  order_settlement_schema,
  party_settlement_schema,
  payout_file_schema,
  payout_schema,
  settlement_run_schema,
} from "../capability-schemas.ts";
import { limitOf, scopedRead } from "../request-scope.ts";
import {
  amount_minor_max_number,
  id_params,
  idempotency_header,
  mediaResponse,
  page_query,
  pageSchema,
  party_version_schema,
  problem_schema,
  text_body,
} from "../schemas.ts";

// Settlement profiles, runs, payouts and settlement status (docs/settlement.md).
const finance = ["platform_admin", "finance"] as const;
/** Roles that see payout account references in full. */
const full_account_roles = new Set(["platform_admin", "finance"]);

const cycle_schema = {
  oneOf: [
    {
      type: "object",
      required: ["type"],
      properties: {
        type: { const: "daily" },
        lag_days: { type: "integer", minimum: 0, maximum: lag_days_max },
      },
      additionalProperties: false,
    },
    {
      type: "object",
      required: ["type", "weekday"],
      properties: { type: { const: "weekly" }, weekday: { type: "integer", minimum: 1, maximum: 7 } },
      additionalProperties: false,
    },
    {
      type: "object",
      required: ["type", "day"],
      properties: { type: { const: "monthly" }, day: { type: "integer", minimum: 1, maximum: 31 } },
      additionalProperties: false,
    },
    {
      type: "object",
      required: ["type"],
      properties: { type: { const: "manual" } },
      additionalProperties: false,
    },
  ],
} as const;

const profile_schema = {
  type: "object",
  description:
    "Settlement profile: cycle (daily T+N, weekly on an ISO weekday, monthly on a day, or manual), minimum payout, currency, payout account reference, and whether debt is netted first.",
  properties: {
    cycle: cycle_schema,
    minimum_payout_minor: { type: "integer", minimum: 0, maximum: amount_minor_max_number },
    currency: { type: ["string", "null"], pattern: "^[A-Z]{3}$" },
    payout_account_ref: { type: ["string", "null"], minLength: 1, maxLength: payout_account_ref_length_max },
    net_debt_first: { type: "boolean" },
  },
  additionalProperties: false,
} as const;

export async function settlementRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.patch<{
    Params: { id: string };
    Body: { name?: string; status?: PartyStatus; settlement?: unknown; version?: number };
  }>(
    "/v1/parties/:id",
    {
      config: { roles: finance },
      schema: {
        tags: ["parties"],
        summary: "Change a party's name, status or settlement profile; every change is a new version",
        params: id_params,
        body: {
          type: "object",
          minProperties: 1,
          properties: {
            name: { type: "string", minLength: 1, maxLength: name_length_max },
            status: { enum: [...party_statuses] },
            settlement: profile_schema,
            version: {
              type: "integer",
              minimum: 1,
              description: "The version read; a different current version is a 409",
            },
          },
          additionalProperties: false,
        },
        response: { 200: party_version_schema, 404: problem_schema, 409: problem_schema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return updateParty(
        ctx,
        principal.tenant_id,
        request.params.id,
        request.body,
        principal.actor,
        request.ip,
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/parties/:id/settlement",
    {
      schema: {
        tags: ["settlement"],
        summary: "A party's settlement status: balances by step, profile, payouts by state, recent payouts",
        params: id_params,
        response: { 200: party_settlement_schema, 404: problem_schema },
      },
    },
    async (request) =>
      scopedRead(ctx.db, request, (tx, scope) =>
        partySettlement(tx, scope, request.params.id, full_account_roles.has(principalOf(request).role)),
      ),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/orders/:id/settlement",
    {
      schema: {
        tags: ["settlement"],
        summary:
          "An order's settlement status per party: held → releasable → available → in_transit → paid_out",
        params: id_params,
        response: { 200: order_settlement_schema, 404: problem_schema },
      },
    },
    async (request) =>
      scopedRead(ctx.db, request, (tx, scope) => orderSettlement(tx, scope, request.params.id, ctx.now())),
  );

  app.post<{ Body: { as_of?: string; party_ids?: string[] } }>(
    "/v1/settlements/runs",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary:
          "Run settlement for every party due on the day of as_of (default now); idempotent per party and cycle",
        headers: idempotency_header,
        body: {
          type: "object",
          properties: {
            as_of: { type: "string", format: "date-time", maxLength: timestamp_length_max },
            party_ids: {
              type: "array",
              maxItems: named_parties_max,
              items: { type: "string", minLength: 1, maxLength: id_length_max },
            },
          },
          additionalProperties: false,
        },
        response: { 201: settlement_run_schema, 400: problem_schema, 404: problem_schema },
      },
    },
    async (request, reply) => {
      const as_of = request.body?.as_of === undefined ? undefined : new Date(request.body.as_of);
      const result = await runSettlement(ctx, principalOf(request).tenant_id, {
        as_of,
        trigger: "api",
        party_ids: request.body?.party_ids,
      });
      return reply.status(201).send(runSummaryJson(result));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { format?: "csv" | "json" } }>(
    "/v1/settlements/runs/:id/payout-file",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary:
          "The run's payout file: CSV (Repr-Digest header) or the generic bank-transfer JSON with its checksum",
        params: id_params,
        querystring: { type: "object", properties: { format: { enum: ["csv", "json"] } } },
        response: {
          200: mediaResponse("The payout file", {
            "application/json": payout_file_schema,
            "text/csv": text_body,
          }),
          404: problem_schema,
        },
      },
    },
    async (request, reply) => {
      const file = await payoutFileOfRun(
        ctx.db,
        principalOf(request).tenant_id,
        request.params.id,
        ctx.now(),
      );
      if (request.query.format === "csv") {
        return reply
          .header("content-type", "text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="payouts-${file.run_date}.csv"`)
          .header("repr-digest", `sha-256=:${Buffer.from(file.csv_sha256, "hex").toString("base64")}:`)
          .send(file.csv);
      }
      return file.json;
    },
  );

  app.get<{
    Querystring: {
      party_id?: string;
      state?: string;
      from?: string;
      to?: string;
      cursor?: string;
      limit?: string;
    };
  }>(
    "/v1/payouts",
    {
      schema: {
        tags: ["settlement"],
        response: { 200: pageSchema(payout_schema) },
        summary: "Payouts by party, state and run day, with cursor pages; a merchant sees only its own",
        querystring: {
          type: "object",
          properties: {
            ...page_query,
            party_id: { type: "string", maxLength: id_length_max },
            state: { enum: ["in_transit", "paid_out", "failed", "carried_over", "netted"] },
            from: { type: "string", format: "date" },
            to: { type: "string", format: "date" },
          },
        },
      },
    },
    async (request) => {
      const full = full_account_roles.has(principalOf(request).role);
      const { limit, ...filter } = request.query;
      const page = await scopedRead(ctx.db, request, (tx, scope) =>
        listPayouts(tx, scope, { ...filter, limit: limitOf(limit) }),
      );
      return { items: page.items.map((row) => payoutView(row, full)), next_cursor: page.next_cursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/payouts/:id",
    {
      schema: {
        tags: ["settlement"],
        summary: "One payout",
        params: id_params,
        response: { 200: payout_schema, 404: problem_schema },
      },
    },
    async (request) => {
      const full = full_account_roles.has(principalOf(request).role);
      return payoutView(
        await scopedRead(ctx.db, request, (tx, scope) => getPayout(tx, scope, request.params.id)),
        full,
      );
    },
  );

  app.post<{ Params: { id: string }; Body: { provider_reference?: string } }>(
    "/v1/payouts/:id/confirm",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary: "The bank paid it: in transit → paid out",
        params: id_params,
        headers: idempotency_header,
        body: {
          type: "object",
          properties: {
            provider_reference: { type: "string", minLength: 1, maxLength: provider_reference_length_max },
          },
          additionalProperties: false,
        },
        response: { 200: payout_schema, 404: problem_schema, 409: problem_schema },
      },
    },
    async (request) =>
      payoutView(
        await resolvePayoutResult(ctx, principalOf(request).tenant_id, request.params.id, {
          outcome: "confirm",
          provider_reference: request.body?.provider_reference,
        }),
        true,
      ),
  );

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    "/v1/payouts/:id/fail",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary: "The bank returned it: in transit → available again, with the reason; the party is told",
        params: id_params,
        headers: idempotency_header,
        body: {
          type: "object",
          required: ["reason"],
          properties: { reason: { type: "string", minLength: 1, maxLength: failure_reason_length_max } },
          additionalProperties: false,
        },
        response: { 200: payout_schema, 404: problem_schema, 409: problem_schema },
      },
    },
    async (request) => {
      if (typeof request.body?.reason !== "string")
        throw new DomainError("failure_reason_invalid", "reason is required", "reason");
      return payoutView(
        await resolvePayoutResult(ctx, principalOf(request).tenant_id, request.params.id, {
          outcome: "fail",
          reason: request.body.reason,
        }),
        true,
      );
    },
  );
}
