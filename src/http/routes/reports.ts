import { PassThrough } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError } from "../../core/errors.ts";
import {
  currency_code_length_max,
  id_length_max,
  line_proofs_per_page_max,
  path_param_length_max,
  report_option_length_max,
  statement_days_max,
  timestamp_length_max,
} from "../../core/limits.ts";
import type { ReportDocument, StreamedDocument } from "../../core/reports/document.ts";
import { parseDay, parsePeriod } from "../../core/reports/period.ts";
import type { ServiceContext } from "../../service/context.ts";
import {
  langOf,
  type ReportParams,
  reportNameOf,
  runReport,
  runReportStreamed,
} from "../../service/reports/catalog.ts";
import { statementLineProofs } from "../../service/reports/line-proofs.ts";
import {
  assertRenderable,
  content_types,
  fileNameOf,
  formatOf,
  type ReportFormat,
  renderReport,
  renderStreamed,
} from "../../service/reports/render/index.ts";
import {
  type Caller,
  createSavedReport,
  getSavedReport,
  listReportRuns,
  listSavedReports,
  reportRunFile,
  runSavedReport,
  type SavedReportInput,
} from "../../service/reports/saved.ts";
import { simulatePolicy } from "../../service/reports/simulate.ts";
import { principalOf } from "../authenticate.ts";
import {
  report_run_schema,
  report_schema,
  saved_report_schema,
  simulation_schema,
} from "../capability-schemas.ts";
import { componentRef } from "../components.ts";
import { limitOf, scopeOf } from "../request-scope.ts";
import {
  binary_body,
  mediaResponse,
  next_cursor_schema,
  page_query,
  pageSchema,
  problem_schema,
  reportResponse,
} from "../schemas.ts";

// GET /v1/reports/{report}: every standard report in JSON, CSV, XLSX or PDF.
// The caller's role scopes it: merchants and suppliers see their own party
// only, and another party's report is "not found" (docs/reports.md).

const report_roles = [
  "platform_admin",
  "finance",
  "reviewer",
  "auditor",
  "merchant",
  "supplier",
  "party",
] as const;

type Query = ReportParams & { format?: string; bom?: string };

const format_query = {
  format: {
    type: "string",
    maxLength: report_option_length_max,
    description: "json (default), csv, xlsx or pdf",
  },
  lang: { type: "string", maxLength: report_option_length_max, description: "en (default), zh-CN or zh-TW" },
  bom: {
    type: "string",
    enum: ["0", "1", "true", "false"],
    description: "CSV: start with a UTF-8 BOM for Excel",
  },
} as const;

function callerOf(request: FastifyRequest): Caller {
  return { scope: scopeOf(request), actor: principalOf(request).actor };
}

/** Sends a report in the asked format: JSON as is, files streamed as they are rendered. */
function sendReport(
  request: FastifyRequest<{ Querystring: { format?: string; bom?: string } }>,
  reply: FastifyReply,
  document: ReportDocument,
): FastifyReply {
  const format = formatOf(request.query.format);
  if (format === "json") return reply.type(content_types.json).send(document.json);
  const bom = request.query.bom === "1" || request.query.bom === "true";
  return sendFile(request, reply, document, format, (stream) =>
    renderReport(document, format, stream, { bom }),
  );
}

/** CSV and XLSX of a report read page by page while the file is sent. */
function sendStreamed(
  request: FastifyRequest<{ Querystring: { format?: string; bom?: string } }>,
  reply: FastifyReply,
  document: StreamedDocument,
  format: "csv" | "xlsx",
): FastifyReply {
  const bom = request.query.bom === "1" || request.query.bom === "true";
  return sendFile(request, reply, document, format, (stream) =>
    renderStreamed(document, format, stream, { bom }),
  );
}

function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  document: Pick<ReportDocument, "lang" | "report" | "party" | "period">,
  format: Exclude<ReportFormat, "json">,
  render: (stream: PassThrough) => Promise<void>,
): FastifyReply {
  assertRenderable(document, format);
  const stream = new PassThrough();
  render(stream).catch((error: unknown) => {
    request.log.error({ err: error }, "report rendering failed");
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return reply
    .type(content_types[format])
    .header("content-disposition", `attachment; filename="${fileNameOf(document, format)}"`)
    .send(stream);
}

export async function reportRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Params: { report: string }; Querystring: Query }>(
    "/v1/reports/:report",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary:
          "A report (statement, platform_revenue, split_detail, settlement_status, audit, reconciliation) as json, csv, xlsx or pdf, in en, zh-CN or zh-TW",
        params: {
          type: "object",
          properties: { report: { type: "string", maxLength: path_param_length_max } },
        },
        querystring: {
          type: "object",
          properties: {
            party_id: { type: "string", minLength: 1, maxLength: id_length_max },
            from: {
              type: "string",
              maxLength: timestamp_length_max,
              description: "first day, inclusive (2026-11-01)",
            },
            to: {
              type: "string",
              maxLength: timestamp_length_max,
              description: "day after the last, exclusive (2026-12-01)",
            },
            currency: { type: "string", maxLength: currency_code_length_max },
            order_id: { type: "string", minLength: 1, maxLength: id_length_max },
            format: { type: "string", maxLength: report_option_length_max },
            lang: { type: "string", maxLength: report_option_length_max },
            bom: { type: "string", enum: ["0", "1", "true", "false"] },
          },
          additionalProperties: false,
        },
        response: {
          200: reportResponse(report_schema),
          400: problem_schema,
          404: problem_schema,
          422: problem_schema,
        },
      },
    },
    async (request, reply) => {
      const name = reportNameOf(request.params.report);
      const format = formatOf(request.query.format);
      // Files stream: split detail is read page by page as the file is written (docs/reports.md).
      if (format === "csv" || format === "xlsx")
        return sendStreamed(
          request,
          reply,
          await runReportStreamed(ctx, scopeOf(request), name, request.query),
          format,
        );
      return sendReport(request, reply, await runReport(ctx, scopeOf(request), name, request.query));
    },
  );

  app.get<{
    Params: { kind: string };
    Querystring: {
      party_id?: string;
      from?: string;
      to?: string;
      currency?: string;
      limit?: number;
      cursor?: string;
    };
  }>(
    "/v1/reports/statement/lines/:kind/proofs",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary:
          "The journal transactions behind one line of a party's statement, each with its proof bundle; their amounts sum to the line",
        params: {
          type: "object",
          properties: { kind: { type: "string", minLength: 1, maxLength: path_param_length_max } },
        },
        querystring: {
          type: "object",
          properties: {
            party_id: { type: "string", minLength: 1, maxLength: id_length_max },
            from: { type: "string", maxLength: timestamp_length_max },
            to: { type: "string", maxLength: timestamp_length_max },
            currency: { type: "string", maxLength: currency_code_length_max },
            limit: {
              type: "string",
              pattern: "^[0-9]{1,3}$",
              description: `1 to ${line_proofs_per_page_max}`,
            },
            cursor: page_query.cursor,
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            required: ["party_id", "currency", "kind", "items", "next_cursor"],
            properties: {
              party_id: { type: "string" },
              currency: { type: "string" },
              kind: { type: "string" },
              items: {
                type: "array",
                items: {
                  type: "object",
                  required: ["transaction_id", "journal_kind", "effective_at", "amount_minor", "bundle"],
                  properties: {
                    transaction_id: { type: "string" },
                    journal_kind: { type: "string" },
                    effective_at: { type: "string", format: "date-time" },
                    amount_minor: { type: "integer" },
                    bundle: componentRef("ProofBundle"),
                  },
                },
              },
              next_cursor: next_cursor_schema,
            },
          },
          400: problem_schema,
          404: problem_schema,
          422: problem_schema,
        },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const party_id = request.query.party_id ?? scope.party_id ?? undefined;
      if (party_id === undefined)
        throw new DomainError("report_party_required", "the statement needs party_id", "party_id");
      return statementLineProofs(ctx, scope, {
        party_id,
        currency: request.query.currency,
        period: parsePeriod(request.query.from, request.query.to, statement_days_max),
        kind: request.params.kind,
        limit: request.query.limit === undefined ? undefined : Number(request.query.limit),
        cursor: request.query.cursor,
      });
    },
  );

  app.post<{ Body: SavedReportInput }>(
    "/v1/reports/saved",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary:
          "Save a custom report: dataset, dimensions, measures, filters, period; optionally shared and scheduled",
        body: { type: "object" },
        response: { 201: saved_report_schema, 400: problem_schema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createSavedReport(ctx, callerOf(request), request.body)),
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    "/v1/reports/saved",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: pageSchema(saved_report_schema) },
        summary: "Saved reports the caller may run, newest first (cursor pages)",
      },
    },
    async (request) =>
      listSavedReports(ctx, callerOf(request), {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/reports/saved/:id",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary: "One saved report",
        response: { 200: saved_report_schema, 404: problem_schema },
      },
    },
    async (request) => getSavedReport(ctx, callerOf(request), request.params.id),
  );

  app.get<{
    Params: { id: string };
    Querystring: { from?: string; to?: string; format?: string; lang?: string; bom?: string };
  }>(
    "/v1/reports/saved/:id/run",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary: "Run a saved report now, in any format; from/to override its period",
        querystring: {
          type: "object",
          properties: {
            from: { type: "string", maxLength: timestamp_length_max },
            to: { type: "string", maxLength: timestamp_length_max },
            ...format_query,
          },
          additionalProperties: false,
        },
        response: { 200: reportResponse(report_schema), 400: problem_schema, 404: problem_schema },
      },
    },
    async (request, reply) => {
      formatOf(request.query.format);
      const { from, to } = request.query;
      const period =
        from === undefined && to === undefined
          ? undefined
          : { from: parseDay(from, "from"), to: parseDay(to, "to") };
      if (period !== undefined && period.to.getTime() <= period.from.getTime())
        throw new DomainError(
          "report_period_invalid",
          "to must be after from; the period is [from, to)",
          "to",
        );
      const document = await runSavedReport(ctx, callerOf(request), request.params.id, {
        lang: langOf(request.query.lang),
        period,
      });
      return sendReport(request, reply, document);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: string } }>(
    "/v1/reports/saved/:id/runs",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary: "Files a schedule produced, latest period first (cursor pages)",
        querystring: { type: "object", additionalProperties: false, properties: page_query },
        response: { 200: pageSchema(report_run_schema), 404: problem_schema },
      },
    },
    async (request) =>
      listReportRuns(ctx, callerOf(request), request.params.id, {
        limit: limitOf(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.get<{ Params: { id: string; run_id: string } }>(
    "/v1/reports/saved/:id/runs/:run_id",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary: "Download a scheduled run's file",
        response: {
          200: mediaResponse("The run's file, in its format", { "application/octet-stream": binary_body }),
          404: problem_schema,
        },
      },
    },
    async (request, reply) => {
      const file = await reportRunFile(ctx, callerOf(request), request.params.id, request.params.run_id);
      return reply
        .type(file.content_type)
        .header("content-disposition", `attachment; filename="${request.params.run_id}.${file.format}"`)
        .send(file.body);
    },
  );

  app.post<{
    Params: { id: string };
    Body: { from?: string; to?: string; merchant_id?: string; currency?: string };
    Querystring: { format?: string; lang?: string; bom?: string };
  }>(
    "/v1/policies/:id/simulate",
    {
      config: { roles: ["platform_admin", "finance", "auditor"] },
      schema: {
        tags: ["policies", "reports"],
        summary:
          "Re-run a (draft) policy over a past period's orders, read-only: old shares, new shares and the difference per merchant and party",
        body: {
          type: "object",
          required: ["from", "to"],
          properties: {
            from: { type: "string", maxLength: timestamp_length_max },
            to: { type: "string", maxLength: timestamp_length_max },
            merchant_id: { type: "string", minLength: 1, maxLength: id_length_max },
            currency: { type: "string", pattern: "^[A-Z]{3}$" },
          },
          additionalProperties: false,
        },
        querystring: { type: "object", properties: format_query, additionalProperties: false },
        response: {
          200: reportResponse(simulation_schema),
          400: problem_schema,
          404: problem_schema,
          422: problem_schema,
        },
      },
    },
    async (request, reply) => {
      formatOf(request.query.format);
      const document = await simulatePolicy(
        ctx,
        scopeOf(request),
        request.params.id,
        request.body,
        langOf(request.query.lang),
      );
      return sendReport(request, reply, document);
    },
  );
}
