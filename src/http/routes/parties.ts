import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import { party_kinds } from "../../core/ledger/types.ts";
import type { ServiceContext } from "../../service/context.ts";
import { createParty, type PartyInput, selectParty } from "../../service/ledger/accounts.ts";
import { assertPartyVisible, partyBalances, partyEntries } from "../../service/parties/party-reads.ts";
import { principalOf } from "../auth.ts";
import { id_params, instant_query, page_query, problem_schema } from "../schemas.ts";
import { instantOf, limitOf, scopedRead, scopeOf } from "../scope.ts";

const party_schema = {
  type: "object",
  required: ["id", "kind", "name"],
  properties: {
    id: { type: "string", minLength: 1, maxLength: 128, pattern: "^[\\x21-\\x7e]+$" },
    kind: { enum: [...party_kinds] },
    name: { type: "string", minLength: 1, maxLength: 200 },
    parent_id: { type: ["string", "null"], minLength: 1, maxLength: 128 },
    settlement: {
      type: "object",
      description: "Settlement profile: payout cycle T+N days, minimum payout, payout account reference.",
      properties: {
        cycle_days: { type: "integer", minimum: 0, maximum: 365 },
        minimum_payout_minor: { type: "integer", minimum: 0, maximum: 9_007_199_254_740_991 },
        payout_account_ref: { type: "string", maxLength: 200 },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const parties_page_max = 200;

export async function partyRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.post<{ Body: PartyInput }>(
    "/v1/parties",
    {
      config: { roles: ["platform_admin", "integration"] },
      schema: {
        tags: ["parties"],
        summary: "Create a party (merchant, supplier, referrer, platform, PSP, tax, logistics)",
        body: party_schema,
        response: { 201: party_schema, 409: problem_schema },
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
        response: { 404: problem_schema },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      await assertPartyVisible(ctx.db, scope, request.params.id);
      const party = await selectParty(ctx.db, scope.tenant_id, request.params.id);
      if (party === undefined)
        throw new DomainError("party_not_found", `no party ${request.params.id}`, "id");
      return party;
    },
  );

  app.get<{ Querystring: { kind?: string; cursor?: string; limit?: string } }>(
    "/v1/parties",
    {
      schema: {
        tags: ["parties"],
        summary: "List parties by id; party-scoped callers see only their own",
        querystring: { type: "object", properties: { kind: { enum: [...party_kinds] }, ...page_query } },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const limit = limitOf(request.query.limit) ?? 100;
      if (limit < 1 || limit > parties_page_max)
        throw new DomainError("limit_invalid", `limit must be 1 to ${parties_page_max}`, "limit");
      const rows = await ctx.db.query<{ id: string }>(
        `SELECT id, kind, name, parent_id, settlement, created_at FROM parties
          WHERE tenant_id = $1 AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR kind = $3)
            AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [
          scope.tenant_id,
          scope.party_id,
          request.query.kind ?? null,
          request.query.cursor ?? null,
          limit + 1,
        ],
      );
      const items = rows.slice(0, limit);
      return { items, next_cursor: rows.length > limit ? items[items.length - 1]!.id : null };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { as_of?: string } }>(
    "/v1/parties/:id/balances",
    {
      schema: {
        tags: ["parties"],
        summary: "Held, available, in-transit and debt per currency, now or as of an instant",
        params: id_params,
        querystring: { type: "object", properties: { as_of: instant_query } },
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
            purpose: { type: "string", maxLength: 32 },
            currency: { type: "string", pattern: "^[A-Z]{3}$" },
            order_id: { type: "string", maxLength: 128 },
          },
        },
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
