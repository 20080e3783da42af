import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import type { ServiceContext } from "../../service/context.ts";
import {
  type HistoryPage,
  selectBillImportsNewestFirst,
  selectRunsNewestFirst,
} from "../../store/settlement-sql.ts";
import { page_query, problem_schema } from "../schemas.ts";
import { scopedRead } from "../scope.ts";

// The two finance lists the console needs and the API lacked: settlement runs
// and bill imports, newest first, in cursor pages. Each item is what its own
// route (the run's summary, GET /v1/reconciliation/imports/{id}) already shows.

export const history_page_max = 100;
const history_page_default = 20;
const finance = ["platform_admin", "finance"] as const;
const readers = ["platform_admin", "finance", "auditor", "reviewer"] as const;

/** Reads `limit` and `cursor` (the last id of the previous page) into a page, or names the bad field. */
export function historyPageOf(query: { limit?: string; cursor?: string }): HistoryPage {
  const limit = query.limit === undefined ? history_page_default : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > history_page_max)
    throw new DomainError("limit_invalid", `limit must be 1 to ${history_page_max}`, "limit");
  if (query.cursor !== undefined && !isUuid(query.cursor))
    throw new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
  return { limit, before_id: query.cursor ?? null };
}

/** Fetches one more row than the page holds, to know whether there is a next page. */
function pageOf<T extends { id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? items[items.length - 1]!.id : null };
}

const list_schema = {
  querystring: { type: "object", additionalProperties: false, properties: page_query },
  response: { 400: problem_schema },
} as const;

export async function financeHistoryRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    "/v1/settlements/runs",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary: `Settlement runs, newest first, each with its summary (cursor pages of at most ${history_page_max})`,
        ...list_schema,
      },
    },
    async (request) => {
      const page = historyPageOf(request.query);
      const rows = await scopedRead(ctx.db, request, (tx, scope) =>
        selectRunsNewestFirst(tx, scope.tenant_id, { ...page, limit: page.limit + 1 }),
      );
      return pageOf(rows, page.limit);
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    "/v1/reconciliation/imports",
    {
      config: { roles: readers },
      schema: {
        tags: ["reconciliation"],
        summary: `Bill imports, newest first, with their parse report and counts by status (cursor pages of at most ${history_page_max})`,
        ...list_schema,
      },
    },
    async (request) => {
      const page = historyPageOf(request.query);
      const rows = await scopedRead(ctx.db, request, (tx, scope) =>
        selectBillImportsNewestFirst(tx, scope.tenant_id, { ...page, limit: page.limit + 1 }),
      );
      return pageOf(
        rows.map((row) => {
          const stored = (typeof row.report === "string" ? JSON.parse(row.report) : row.report) as {
            counts?: unknown;
          };
          return {
            id: row.id,
            provider: row.provider,
            file_sha256: row.file_sha256,
            rows_total: Number(row.rows_total),
            rows_parsed: Number(row.rows_parsed),
            counts: stored?.counts ?? {},
            created_at: row.created_at,
          };
        }),
        page.limit,
      );
    },
  );
}
