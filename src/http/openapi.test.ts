import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Ajv2020 } from "ajv/dist/2020.js";
import openapiTS from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverOpenApiDocument } from "../client/generate.ts";
import type { Database } from "../store/database.ts";
import { openTestDatabase } from "../testing/db.ts";
import { declaredComponents } from "./components.ts";
import { problem_media_type } from "./openapi.ts";

// The OpenAPI document is the contract the typed client and the console are
// built against (issue 13 §3); these tests hold it complete and valid.

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, Json>;
  security?: unknown[];
}

let db: Database;
let document: Json;
beforeAll(async () => {
  db = await openTestDatabase();
  document = (await serverOpenApiDocument({ db, now: () => new Date() })) as unknown as Json;
}, 120_000);
afterAll(async () => db.close());

function operations(): [string, Operation][] {
  return Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item).map(
      ([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation],
    ),
  );
}

const document_id = "https://clearsplit.local/openapi.json";
/** Statuses whose response has no body by definition. */
const bodiless = new Set(["204", "304"]);

describe("the OpenAPI document", () => {
  it("passes Redocly's OpenAPI 3.1 validation (structure, references, responses, security) with no error", async () => {
    const config = await createConfig({
      extends: ["recommended-strict"],
      rules: {
        // Servers are the deployment's: a relative document serves any host.
        "no-empty-servers": "off",
        "info-license": "off",
        // Operations are named by method and path; the typed client keys them so.
        "operation-operationId": "off",
      },
    });
    const problems = await lintFromString({
      source: JSON.stringify(document),
      absoluteRef: "openapi.json",
      config,
    });
    const errors = problems.filter((problem) => problem.severity === "error");
    expect(
      errors.map((e) => `${e.ruleId}: ${e.message} at ${e.location[0]?.pointer}`),
      "Redocly errors",
    ).toEqual([]);
  });

  it("gives every operation a success response with a schema (or a declared body-less status)", () => {
    const missing: string[] = [];
    for (const [name, operation] of operations()) {
      const success = Object.entries(operation.responses).filter(([status]) => /^[23]/.test(status));
      const described = success.some(
        ([status, response]) =>
          bodiless.has(status) ||
          Object.values((response.content ?? {}) as Record<string, Json>).some(
            (media) => media.schema !== undefined,
          ),
      );
      if (!described) missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  it("answers every error as application/problem+json with the Problem component", () => {
    const components = document.components as { responses: Record<string, Json> };
    for (const [name, operation] of operations()) {
      for (const [status, declared] of Object.entries(operation.responses)) {
        if (!/^[45]/.test(status)) continue;
        const ref = declared.$ref as string | undefined;
        const response = ref === undefined ? declared : components.responses[ref.split("/").at(-1)!]!;
        const content = response.content as Record<string, { schema: Json }>;
        expect(Object.keys(content), `${name} ${status}`).toEqual([problem_media_type]);
        expect(content[problem_media_type]!.schema.$ref, `${name} ${status}`).toBe(
          "#/components/schemas/Problem",
        );
      }
      if (operation.security?.length !== 0) expect(operation.responses["401"], `${name} 401`).toBeDefined();
    }
  });

  it("names each resource as a component, and uses every component it declares", () => {
    const schemas = (document.components as { schemas: Json }).schemas;
    for (const name of [
      "OrderInput",
      "OrderView",
      "OrderDetail",
      "Leg",
      "Party",
      "Balance",
      "Entry",
      "Policy",
      "PolicyAssignment",
      "Refund",
      "Chargeback",
      "ApiKey",
      "User",
      "Problem",
      "AuditCase",
      "SettlementRun",
      "Payout",
      "ReportRun",
      "InboxItem",
      "WebhookEndpoint",
    ])
      expect(schemas[name], name).toBeDefined();
    for (const name of declaredComponents().keys()) expect(schemas[name], name).toBeDefined();
    const text = JSON.stringify({
      paths: document.paths,
      components: { ...(document.components as Json), schemas: {} },
    });
    const nested = JSON.stringify(schemas);
    for (const name of Object.keys(schemas))
      expect(
        text.includes(`"#/components/schemas/${name}"`) || nested.includes(`"#/components/schemas/${name}"`),
        `${name} is referenced`,
      ).toBe(true);
  });

  it("declares API keys and console sessions as security schemes", () => {
    const schemes = (document.components as { securitySchemes: Json }).securitySchemes;
    expect(schemes.api_key).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.session).toMatchObject({ type: "apiKey", in: "cookie", name: "cs_session" });
    expect(document.security).toEqual([{ api_key: [] }, { session: [] }]);
    const login = (document.paths as Record<string, Record<string, Operation>>)["/v1/auth/login"]!.post!;
    expect(login.security).toEqual([]);
  });

  it("has every component schema compile as JSON Schema 2020-12 (the dialect of OpenAPI 3.1)", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const schemas = (document.components as { schemas: Record<string, Json> }).schemas;
    ajv.addSchema({ $id: document_id, components: { schemas } });
    for (const name of Object.keys(schemas))
      expect(() => ajv.compile({ $ref: `${document_id}#/components/schemas/${name}` }), name).not.toThrow();
  });

  it("gives openapi-typescript a document it turns into types with no error", async () => {
    const ast = await openapiTS(document as never, { alphabetize: true });
    expect(ast.length).toBeGreaterThan(0);
  });

  it("pages every list route one way: limit and cursor in, { items, next_cursor } out (decisions §20, §29)", () => {
    // Fixed catalogues from the code, not lists of stored rows: nothing to page.
    const catalogues = ["GET /problems", "GET /v1/event-types"];
    const schemas = (document.components as { schemas: Record<string, Json> }).schemas;
    const deref = (schema: Json | undefined): Json | undefined => {
      const ref = schema?.$ref as string | undefined;
      return ref === undefined ? schema : schemas[ref.split("/").at(-1)!];
    };
    const lists: string[] = [];
    const wrong: string[] = [];
    for (const [name, operation] of operations()) {
      if (!name.startsWith("GET ")) continue;
      const ok = operation.responses["200"] as { content?: Record<string, { schema?: Json }> } | undefined;
      const body = deref(ok?.content?.["application/json"]?.schema);
      const properties = (body?.properties ?? {}) as Record<string, Json>;
      if (!("items" in properties) || catalogues.includes(name)) continue;
      lists.push(name);
      const query = ((operation as { parameters?: { in: string; name: string }[] }).parameters ?? [])
        .filter((parameter) => parameter.in === "query")
        .map((parameter) => parameter.name);
      if (!query.includes("limit")) wrong.push(`${name} takes no limit`);
      if (!query.includes("cursor")) wrong.push(`${name} takes no cursor`);
      if (!("next_cursor" in properties)) wrong.push(`${name} answers no next_cursor`);
      if (!(body?.required as string[] | undefined)?.includes("next_cursor"))
        wrong.push(`${name} does not require next_cursor`);
    }
    expect(wrong).toEqual([]);
    expect(lists.length).toBeGreaterThan(20);
  });

  it("shows examples for the main operations", () => {
    const text = JSON.stringify(document);
    for (const name of ["OrderInput", "OrderView", "Problem", "RefundInput"]) {
      const schema = (document.components as { schemas: Record<string, Json> }).schemas[name]!;
      expect(Array.isArray(schema.examples), `${name} has examples`).toBe(true);
    }
    expect(text).toContain("examples");
  });
});
