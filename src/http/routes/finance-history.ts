import type { FastifyInstance } from "fastify";
import { history_page_default, history_page_max } from "../../core/limits.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import type { ServiceContext } from "../../service/context.ts";
import {
  type HistoryPage,
  selectBillImportsNewestFirst,
  selectRunsNewestFirst,
} from "../../store/settlement-sql.ts";
import { scopedRead } from "../request-scope.ts";
import { objectSchema, page_query, pageSchema, problem_schema } from "../schemas.ts";

// The two finance lists the console needs and the API lacked: settlement runs
// and bill imports, newest first, in cursor pages. Each item is what its own
// route (the run's summary, GET /v1/reconciliation/imports/{id}) already shows.

const finance = ["platform_admin", "finance"] as const;
const readers = ["platform_admin", "finance", "auditor", "reviewer"] as const;

/** Reads `limit` and the opaque `cursor` (core/page.ts, the API's one pagination) into a page. */
export function historyPageOf(
  list: "settlement_runs" | "bill_imports",
  query: { limit?: string; cursor?: string },
): HistoryPage {
  const limit = pageLimit(
    query.limit === undefined ? undefined : Number(query.limit),
    history_page_default,
    history_page_max,
  );
  if (query.cursor === undefined) return { limit, before_id: null };
  const [before_id] = decodeCursor(list, query.cursor, ["uuid"]);
  return { limit, before_id };
}

/** A page newest first by id, from `limit + 1` rows. */
function historyPage<T extends { id: string }>(
  list: "settlement_runs" | "bill_imports",
  rows: T[],
  limit: number,
) {
  return pageOf(rows, limit, list, (row) => [row.id]);
}

const list_query = { type: "object", additionalProperties: false, properties: page_query } as const;

export async function financeHistoryRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    "/v1/settlements/runs",
    {
      config: { roles: finance },
      schema: {
        tags: ["settlement"],
        summary: `Settlement runs, newest first, each with its summary (cursor pages of at most ${history_page_max})`,
        querystring: list_query,
        response: {
          200: pageSchema(
            objectSchema(
              "A settlement run: id, run_date, as_of, trigger, status, summary, created_at, finished_at",
            ),
          ),
          400: problem_schema,
        },
      },
    },
    async (request) => {
      const page = historyPageOf("settlement_runs", request.query);
      const rows = await scopedRead(ctx.db, request, (tx, scope) =>
        selectRunsNewestFirst(tx, scope.tenant_id, { ...page, limit: page.limit + 1 }),
      );
      return historyPage("settlement_runs", rows, page.limit);
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    "/v1/reconciliation/imports",
    {
      config: { roles: readers },
      schema: {
        tags: ["reconciliation"],
        summary: `Bill imports, newest first, with their parse report and counts by status (cursor pages of at most ${history_page_max})`,
        querystring: list_query,
        response: {
          200: pageSchema(
            objectSchema(
              "A bill import: id, provider, file_sha256, rows_total, rows_parsed, counts by status, created_at",
            ),
          ),
          400: problem_schema,
        },
      },
    },
    async (request) => {
      const page = historyPageOf("bill_imports", request.query);
      const rows = await scopedRead(ctx.db, request, (tx, scope) =>
        selectBillImportsNewestFirst(tx, scope.tenant_id, { ...page, limit: page.limit + 1 }),
      );
      return historyPage(
        "bill_imports",
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
