import { PassThrough } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { type ReportParams, reportNameOf, runReport } from "../../service/reports/catalog.ts";
import {
  assertRenderable,
  content_types,
  fileNameOf,
  formatOf,
  renderReport,
} from "../../service/reports/render/index.ts";
import { problem_schema } from "../schemas.ts";
import { scopeOf } from "../scope.ts";

// GET /v1/reports/{report}: every standard report in JSON, CSV, XLSX or PDF.
// The caller's role scopes it: merchants and suppliers see their own party
// only, and another party's report is "not found" (docs/reports.md).

const report_roles = ["platform_admin", "finance", "reviewer", "auditor", "merchant", "supplier"] as const;

type Query = ReportParams & { format?: string; bom?: string };

export async function reportRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Params: { report: string }; Querystring: Query }>(
    "/v1/reports/:report",
    {
      config: { roles: [...report_roles] },
      schema: {
        tags: ["reports"],
        summary:
          "A report (statement, platform_revenue, split_detail, settlement_status) as json, csv, xlsx or pdf, in en, zh-CN or zh-TW",
        params: { type: "object", properties: { report: { type: "string", maxLength: 64 } } },
        querystring: {
          type: "object",
          properties: {
            party_id: { type: "string", minLength: 1, maxLength: 128 },
            from: { type: "string", maxLength: 40, description: "first day, inclusive (2026-11-01)" },
            to: { type: "string", maxLength: 40, description: "day after the last, exclusive (2026-12-01)" },
            currency: { type: "string", maxLength: 3 },
            order_id: { type: "string", minLength: 1, maxLength: 128 },
            format: { type: "string", maxLength: 8 },
            lang: { type: "string", maxLength: 8 },
            bom: { type: "string", enum: ["0", "1", "true", "false"] },
          },
          additionalProperties: false,
        },
        response: { 400: problem_schema, 404: problem_schema, 422: problem_schema },
      },
    },
    async (request, reply) => {
      const name = reportNameOf(request.params.report);
      const format = formatOf(request.query.format);
      const document = await runReport(ctx, scopeOf(request), name, request.query);
      if (format === "json") return reply.type(content_types.json).send(document.json);
      assertRenderable(document, format);
      const stream = new PassThrough();
      renderReport(document, format, stream, {
        bom: request.query.bom === "1" || request.query.bom === "true",
      }).catch((error: unknown) => {
        request.log.error({ err: error }, "report rendering failed");
        stream.destroy(error instanceof Error ? error : new Error(String(error)));
      });
      return reply
        .type(content_types[format])
        .header("content-disposition", `attachment; filename="${fileNameOf(document, format)}"`)
        .send(stream);
    },
  );
}
