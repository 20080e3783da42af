import type { SwaggerOptions } from "@fastify/swagger";
import { csrf_header } from "./authenticate.ts";
import { componentNameOf } from "./components.ts";
import { csrf_cookie, session_cookie } from "./cookies.ts";

// The OpenAPI 3.1 document's frame (decisions §21): named components, the two
// ways to authenticate, and the problem responses every operation can give.
// Routes describe their own success responses; this module adds what is the
// same for every route, so no route repeats it.

export const problem_media_type = "application/problem+json";
const security_schemes = {
  api_key: {
    type: "http",
    scheme: "bearer",
    description:
      "An API key, `cs_live_<id>_<secret>` (POST /v1/api-keys). The scheme name is case-insensitive.",
  },
  session: {
    type: "apiKey",
    in: "cookie",
    name: session_cookie,
    description: `The console's session cookie (POST /v1/auth/login). A write made with it also sends the ${csrf_header} header with the ${csrf_cookie} cookie's value.`,
  },
} as const;

/** Problem responses every operation may give, by status: the error catalogue's status rule. */
const common_problems: Readonly<Record<string, string>> = {
  "400": "Malformed request: syntax or schema (`field` names the input)",
  "401": "No valid credential",
  "403": "The caller's role may not use this route",
  "429": "Too many requests; retry after the Retry-After header",
  "500": "The server's own fault",
};

type Json = Record<string, unknown>;
type Operation = { responses?: Record<string, Json>; security?: unknown[]; parameters?: Json[] };

/** @fastify/swagger options: components named by their `$id`, and the document completed. */
export function swaggerOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "ClearSplit API",
        version: "1",
        description:
          "Split-settlement ledger for marketplaces. Amounts are JSON integers in minor units of an ISO 4217 currency. " +
          "Errors are RFC 9457 application/problem+json with a stable `code` from the error catalogue (docs/errors.md). " +
          "Writes accept an Idempotency-Key header. Lists take `limit` and an opaque `cursor` and answer `{ items, next_cursor }`.",
      },
      components: { securitySchemes: security_schemes },
      security: [{ api_key: [] }, { session: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base_uri, _fragment, index) =>
        typeof json.$id === "string" ? json.$id : `def-${index}`,
    },
    transform: ({ schema, url, route }) => {
      const access = (route.config as { access?: string } | undefined)?.access;
      const named = namedWildcard(url, schema as Json | undefined);
      if (access !== "public" || named.schema === undefined) return named as never;
      return { schema: { ...named.schema, security: [] }, url: named.url } as never;
    },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: Json }).openapiObject;
      completeDocument(document);
      return document;
    },
  } as SwaggerOptions;
}

/**
 * Every error response is problem+json with the Problem component; every
 * authenticated operation can answer 401 and 403, every operation 400, 429 and
 * 500, and one with a path parameter 404. Leftover `Name#` refs (nested in
 * inline schemas) point at their component.
 */
export function completeDocument(document: Json): void {
  const components = document.components as Json & { responses?: Json };
  components.responses = {
    ...(components.responses ?? {}),
    ...Object.fromEntries(
      Object.entries({ ...common_problems, "404": "Not found (also another party's resource)" }).map(
        ([status, description]) => [`Problem${status}`, problemResponse(description)],
      ),
    ),
  };
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(item)) {
      const responses = operation.responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        if (!/^[45]/.test(status) || "$ref" in response) continue;
        responses[status] = problemResponse(String(response.description ?? "Problem"));
      }
      const is_public = Array.isArray(operation.security) && operation.security.length === 0;
      for (const status of Object.keys(common_problems)) {
        if (is_public && (status === "401" || status === "403")) continue;
        responses[status] ??= { $ref: `#/components/responses/Problem${status}` };
      }
      if (path.includes("{")) responses["404"] ??= { $ref: "#/components/responses/Problem404" };
      operation.responses = responses;
    }
  }
  rewriteLocalRefs(document);
}

function problemResponse(description: string): Json {
  return {
    description,
    content: { [problem_media_type]: { schema: { $ref: "#/components/schemas/Problem" } } },
  };
}

function rewriteLocalRefs(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteLocalRefs(item);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const object = node as Json;
  if (typeof object.$ref === "string" && !object.$ref.startsWith("#/")) {
    const name = componentNameOf(object.$ref);
    if (name !== null) object.$ref = `#/components/schemas/${name}`;
  }
  for (const value of Object.values(object)) rewriteLocalRefs(value);
}

const wildcard_parameter = "path";

/** A trailing `*` route parameter is named in the document, as OpenAPI path templates need names. */
function namedWildcard(url: string, schema: Json | undefined): { url: string; schema: Json | undefined } {
  if (!url.endsWith("/*") || schema === undefined) return { url, schema };
  const params = schema.params as { properties: Json; required?: string[] } | undefined;
  const properties = { ...(params?.properties ?? {}) };
  properties[wildcard_parameter] = properties["*"] ?? { type: "string" };
  delete properties["*"];
  const required = (params?.required ?? []).map((name) => (name === "*" ? wildcard_parameter : name));
  return {
    url: `${url.slice(0, -1)}:${wildcard_parameter}`,
    schema: { ...schema, params: { ...params, properties, required } },
  };
}
