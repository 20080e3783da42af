import type { FastifyInstance } from "fastify";
import { party_kinds } from "../../core/ledger/types.ts";
import {
  cycle_days_max,
  id_length_max,
  name_length_max,
  payout_account_ref_length_max,
  purpose_length_max,
} from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";
import { createParty, type PartyInput } from "../../service/ledger/accounts.ts";
import { getParty, listParties, partyBalances, partyEntries } from "../../service/parties/party-reads.ts";
import { principalOf } from "../authenticate.ts";
import { instantOf, limitOf, scopedRead } from "../request-scope.ts";
import {
  amount_minor_max_number,
  entry_schema,
  id_params,
  instant_query,
  page_query,
  pageSchema,
  party_balances_schema,
  party_view_schema,
  problem_schema,
} from "../schemas.ts";

const party_schema = {
  type: "object",
  required: ["id", "kind", "name"],
  properties: {
    id: { type: "string", minLength: 1, maxLength: id_length_max, pattern: "^[\\x21-\\x7e]+$" },
    kind: { enum: [...party_kinds] },
    name: { type: "string", minLength: 1, maxLength: name_length_max },
    parent_id: { type: ["string", "null"], minLength: 1, maxLength: id_length_max },
    settlement: {
      type: "object",
      description: "Settlement profile: payout cycle T+N days, minimum payout, payout account reference.",
      properties: {
        cycle_days: { type: "integer", minimum: 0, maximum: cycle_days_max },
        minimum_payout_minor: { type: "integer", minimum: 0, maximum: amount_minor_max_number },
        payout_account_ref: { type: "string", maxLength: payout_account_ref_length_max },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

export async function partyRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: PartyInput }>(
    "/v1/parties",
    {
      config: { roles: ["platform_admin", "integration"] },
      schema: {
        tags: ["parties"],
        summary: "Create a party (merchant, supplier, referrer, platform, PSP, tax, logistics)",
        body: party_schema,
        response: { 201: party_view_schema, 409: problem_schema },
      },
    },
    async (request, reply) => {
      const party = await createParty(ctx, principalOf(request).tenant_id, request.body);
      return reply.status(201).send(party);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/parties/:id",
    {
      schema: {
        tags: ["parties"],
        summary: "One party",
        params: id_params,
        response: { 200: party_view_schema, 404: problem_schema },
      },
    },
    async (request) => scopedRead(ctx.db, request, (tx, scope) => getParty(tx, scope, request.params.id)),
  );

  app.get<{ Querystring: { kind?: string; cursor?: string; limit?: string } }>(
    "/v1/parties",
    {
      schema: {
        tags: ["parties"],
        summary: "List parties by id; party-scoped callers see only their own",
        querystring: { type: "object", properties: { kind: { enum: [...party_kinds] }, ...page_query } },
        response: { 200: pageSchema(party_view_schema) },
      },
    },
    async (request) =>
      scopedRead(ctx.db, request, (tx, scope) =>
        listParties(tx, scope, {
          kind: request.query.kind,
          cursor: request.query.cursor,
          limit: limitOf(request.query.limit),
        }),
      ),
  );

  app.get<{ Params: { id: string }; Querystring: { as_of?: string } }>(
    "/v1/parties/:id/balances",
    {
      schema: {
        tags: ["parties"],
        summary: "Held, available, in-transit and debt per currency, now or as of an instant",
        params: id_params,
        querystring: { type: "object", properties: { as_of: instant_query } },
        response: { 200: party_balances_schema },
      },
    },
    async (request) => {
      const as_of = instantOf(request.query.as_of);
      const balances = await scopedRead(ctx.db, request, (tx, scope) =>
        partyBalances(tx, scope, request.params.id, as_of),
      );
      return { party_id: request.params.id, as_of: as_of ?? ctx.now(), balances };
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { cursor?: string; limit?: string; purpose?: string; currency?: string; order_id?: string };
  }>(
    "/v1/parties/:id/entries",
    {
      schema: {
        tags: ["parties"],
        summary: "The party's ledger entries in booking order, with cursor pagination",
        params: id_params,
        querystring: {
          type: "object",
          properties: {
            ...page_query,
            purpose: { type: "string", maxLength: purpose_length_max },
            currency: { type: "string", pattern: "^[A-Z]{3}$" },
            order_id: { type: "string", maxLength: id_length_max },
          },
        },
        response: { 200: pageSchema(entry_schema) },
      },
    },
    async (request) => {
      const { cursor, limit, purpose, currency, order_id } = request.query;
      return scopedRead(ctx.db, request, (tx, scope) =>
        partyEntries(tx, scope, request.params.id, {
          cursor,
          limit: limitOf(limit),
          purpose,
          currency,
          order_id,
        }),
      );
    },
  );
}
