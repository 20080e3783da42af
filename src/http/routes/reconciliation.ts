import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import {
  bill_upload_bytes_max,
  mapping_bytes_max,
  reconciliation_items_per_read_max,
  result_file_items_max,
} from "../../core/limits.ts";
import { resultCsv } from "../../core/reconcile/result-file.ts";
import { bill_providers } from "../../core/reconcile/types.ts";
import type { ServiceContext } from "../../service/context.ts";
import { importBill } from "../../service/reconcile/import.ts";
import { readBill } from "../../service/reconcile/read-bill.ts";
import {
  selectBillImport,
  selectReconciliationItems,
  selectResultItems,
} from "../../store/reconciliation-sql.ts";
import { principalOf } from "../authenticate.ts";
import { reconciliation_import_schema } from "../capability-schemas.ts";
import { scopedRead } from "../request-scope.ts";
import { id_params, mediaResponse, objectSchema, problem_schema, text_body } from "../schemas.ts";

const finance = ["platform_admin", "finance"] as const;
const readers = ["platform_admin", "finance", "auditor", "reviewer"] as const;
const bill_types = ["text/csv", "text/plain", "application/octet-stream"];

export async function reconciliationRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser(bill_types, (_request, payload, done) => done(null, payload));
    scope.post<{
      Querystring: {
        provider: string;
        dry_run?: "true" | "false";
        tolerance_minor?: string;
        date_tolerance_ms?: string;
        mapping?: string;
      };
      Body: Readable;
    }>(
      "/v1/reconciliation/imports",
      {
        bodyLimit: bill_upload_bytes_max,
        config: { roles: finance },
        schema: {
          tags: ["reconciliation"],
          summary:
            "Upload a provider bill (the file as the body: text/csv or application/octet-stream) and reconcile it; dry_run only parses and checks. The same file twice is a replay.",
          querystring: {
            type: "object",
            required: ["provider"],
            properties: {
              provider: { enum: [...bill_providers] },
              dry_run: { enum: ["true", "false"] },
              tolerance_minor: {
                type: "string",
                pattern: "^[0-9]{1,7}$",
                description: "Amounts within this many minor units match",
              },
              date_tolerance_ms: {
                type: "string",
                pattern: "^[0-9]{1,9}$",
                description:
                  "A row found by order id matches when its time is within this many ms of the ledger's (default 7200000, at most 604800000); the bill's window shifts back by it",
              },
              mapping: {
                type: "string",
                maxLength: mapping_bytes_max,
                description: "For generic: the JSON column mapping",
              },
            },
            additionalProperties: false,
          },
          response: {
            200: reconciliation_import_schema,
            201: reconciliation_import_schema,
            400: problem_schema,
            413: problem_schema,
            422: problem_schema,
          },
        },
      },
      async (request, reply) => {
        if (typeof (request.body as Readable | undefined)?.pipe !== "function")
          throw new DomainError(
            "bill_unusable",
            `send the bill as the body with content-type ${bill_types.join(" or ")}`,
            "body",
          );
        const dir = mkdtempSync(join(tmpdir(), "clearsplit-bill-"));
        const path = join(dir, "bill");
        try {
          await pipeline(request.body, createWriteStream(path));
          const { provider, dry_run, tolerance_minor, date_tolerance_ms, mapping } = request.query;
          if (dry_run === "true") return await readBill(path, { provider, mapping });
          const result = await importBill(ctx, principalOf(request).tenant_id, {
            provider,
            path,
            mapping,
            tolerance_minor: BigInt(tolerance_minor ?? "0"),
            date_tolerance_ms: date_tolerance_ms === undefined ? undefined : Number(date_tolerance_ms),
          });
          return reply.status(result.replayed ? 200 : 201).send(result);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });

  app.get<{ Params: { id: string }; Querystring: { status?: string } }>(
    "/v1/reconciliation/imports/:id",
    {
      config: { roles: readers },
      schema: {
        tags: ["reconciliation"],
        summary: "A reconciliation: its parse report, counts by status, and its exception items (first 1000)",
        params: id_params,
        querystring: {
          type: "object",
          properties: {
            status: {
              enum: [
                "matched",
                "missing_in_ledger",
                "missing_in_bill",
                "amount_mismatch",
                "fee_mismatch",
                "duplicate",
              ],
            },
          },
        },
        response: {
          200: objectSchema("A reconciliation: its parse report, counts by status and exception items"),
          404: problem_schema,
        },
      },
    },
    async (request) =>
      scopedRead(ctx.db, request, async (tx, scope) => {
        const row = isUuid(request.params.id)
          ? await selectBillImport(tx, scope.tenant_id, request.params.id)
          : undefined;
        if (row === undefined)
          throw new DomainError("reconciliation_not_found", `no reconciliation ${request.params.id}`, "id");
        const items = await selectReconciliationItems(tx, scope.tenant_id, row.id, {
          status: request.query.status ?? null,
          limit: reconciliation_items_per_read_max,
        });
        const stored = typeof row.report === "string" ? JSON.parse(row.report) : row.report;
        return {
          id: row.id,
          provider: row.provider,
          file_sha256: row.file_sha256,
          created_at: row.created_at,
          ...stored,
          items,
        };
      }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/reconciliation/imports/:id/result.csv",
    {
      config: { roles: readers },
      schema: {
        tags: ["reconciliation"],
        summary: `A reconciliation's result file: every item (at most ${result_file_items_max}) as CSV, with a Repr-Digest header`,
        params: id_params,
        response: {
          200: mediaResponse("Every item of the reconciliation, one CSV row each", { "text/csv": text_body }),
          404: problem_schema,
          413: problem_schema,
        },
      },
    },
    async (request, reply) => {
      const file = await scopedRead(ctx.db, request, async (tx, scope) => {
        const row = isUuid(request.params.id)
          ? await selectBillImport(tx, scope.tenant_id, request.params.id)
          : undefined;
        if (row === undefined)
          throw new DomainError("reconciliation_not_found", `no reconciliation ${request.params.id}`, "id");
        const items = await selectResultItems(tx, scope.tenant_id, row.id, result_file_items_max + 1);
        if (items.length > result_file_items_max)
          throw new DomainError(
            "reconciliation_too_large",
            `this reconciliation has more than ${result_file_items_max} items: read it by status from GET /v1/reconciliation/imports/{id}`,
            "id",
          );
        return resultCsv(items);
      });
      return reply
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="reconciliation-${request.params.id}.csv"`)
        .header("repr-digest", `sha-256=:${Buffer.from(file.sha256, "hex").toString("base64")}:`)
        .send(file.csv);
    },
  );
}
