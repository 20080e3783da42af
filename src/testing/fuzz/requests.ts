import fc from "fast-check";

// Generated HTTP requests for every route of the OpenAPI document: valid-ish
// bodies from each route's schema with hostile values mixed in, raw texts no
// parser should trust (deep nesting, duplicate keys, huge numbers, broken
// JSON), wrong content types and methods, and every kind of credential.

export interface RouteSpec {
  method: string;
  /** OpenAPI path, e.g. /v1/orders/{id}. */
  path: string;
  path_params: string[];
  query: { name: string; schema: JsonSchema }[];
  body?: JsonSchema | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is open-ended.
export type JsonSchema = Record<string, any>;

export interface FuzzRequest {
  route: string;
  method: string;
  /** Path and query, already encoded (possibly on purpose badly). */
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  credential: string;
}

export interface FuzzWorld {
  /** Credential name → Authorization header value (absent: none sent). */
  credentials: Record<string, string | undefined>;
  /** Ids that exist (own and foreign), to aim at real objects. */
  known_ids: string[];
  /** A body that passes validation, per route, to mutate. */
  examples: Record<string, unknown>;
}

/** Route specs from an OpenAPI 3.1 document, every method of every path. */
export function routesOf(doc: JsonSchema): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const [path, operations] of Object.entries(doc.paths as Record<string, JsonSchema>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters: JsonSchema[] = operation.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        path_params: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters
          .filter((p) => p.in === "query")
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: operation.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return routes;
}

const hostile_strings = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f",
  "\t\r\n",
  "x".repeat(101),
  "x".repeat(129),
  "x".repeat(5_000),
  "x".repeat(200_000),
  "'; DROP TABLE orders; --",
  '"><script>alert(1)</script>',
  "../../etc/passwd",
  "%00",
  "%",
  "%zz",
  "\uD800",
  "\uDFFF\uD800",
  "💸𝕏\u202E\uFEFF",
  "null",
  "NaN",
  "-1",
  "1e400",
  "__proto__",
  "constructor",
  "ＡＢＣ",
  "ß\u0301",
  "0000-00-00T00:00:00Z",
  "275760-09-13T00:00:00Z",
  "2026-02-30T25:61:61Z",
];

const hostile_numbers: unknown[] = [
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 63),
  1e308,
  Number.MIN_VALUE,
];

/** Literal number texts JSON allows but doubles and bigints disagree on. */
const raw_numbers = [
  "9007199254740993",
  "99999999999999999999999999",
  "1e400",
  "-1e400",
  "1.0000000000000000001",
];

export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...hostile_strings) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  );
}

function hostileScalar(): fc.Arbitrary<unknown> {
  return fc.oneof(
    hostileString(),
    fc.constantFrom(...hostile_numbers),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
}

function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: hostileScalar() },
    { weight: 1, arbitrary: fc.array(hostileScalar(), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString(), hostileScalar(), { maxKeys: 4 }) },
  );
}

/** A value for a schema: usually the right type within range, sometimes hostile. */
function valueFor(schema: JsonSchema | undefined, depth: number): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 4) return hostileValue();
  const valid = validFor(schema, depth);
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostileValue() });
}

function validFor(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "integer":
      return fc.oneof(
        fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1_000_000, 2 ** 31 - 1) }),
        fc.constantFrom(...hostile_numbers),
      );
    case "number":
      return fc.double();
    case "boolean":
      return fc.boolean();
    case "string":
      if (schema.format === "date-time")
        return fc.oneof(
          fc
            .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString()),
          hostileString(),
        );
      return fc.oneof(
        fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) }),
        hostileString(),
      );
    case "array":
      return fc.array(valueFor(schema.items, depth + 1), { maxLength: 3 });
    case "object": {
      const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
      if (properties.length === 0) return fc.dictionary(hostileString(), hostileValue(), { maxKeys: 3 });
      return fc
        .tuple(
          ...properties.map(([name, property]) =>
            fc.option(valueFor(property, depth + 1), { freq: 4 }).map((value) => [name, value] as const),
          ),
          fc.option(fc.tuple(hostileString(), hostileValue()), { freq: 3 }),
        )
        .map((entries) => {
          const out: Record<string, unknown> = {};
          for (const entry of entries.slice(0, -1) as (readonly [string, unknown])[]) {
            if (entry[1] !== null) out[entry[0]] = entry[1];
          }
          const extra = entries[entries.length - 1] as [string, unknown] | null;
          if (extra !== null) out[extra[0]] = extra[1];
          return out;
        });
    }
    default:
      return hostileValue();
  }
}

/** One field of a valid example replaced by a hostile value. */
function mutateExample(example: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, [...path, i]);
    } else if (value !== null && typeof value === "object")
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(example, []);
  return fc.tuple(fc.constantFrom(...paths), hostileValue(), fc.boolean()).map(([path, value, remove]) => {
    const copy = structuredClone(example) as Record<string | number, unknown>;
    if (path.length === 0) return value;
    let node: Record<string | number, unknown> = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    if (remove) delete node[path[path.length - 1]!];
    else node[path[path.length - 1]!] = value;
    return copy;
  });
}

function bodyText(route: RouteSpec, world: FuzzWorld): fc.Arbitrary<string | undefined> {
  const example = world.examples[`${route.method} ${route.path}`];
  const json = (value: unknown) => JSON.stringify(value) ?? "null";
  const options: fc.WeightedArbitrary<string | undefined>[] = [
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: valueFor(route.body ?? { type: "object" }, 0).map(json) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 60, max: 20_000 })
        .map((depth) => `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(hostileString(), hostileString())
        .map(([a, b]) => `{"id":${JSON.stringify(a)},"id":${JSON.stringify(b)},"name":"n","name":1}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...raw_numbers).map((n) => `{"amount_minor":${n},"paid_minor":${n}}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("{", "[", '{"a":}', "nul", "\u0000", '"\\ud800"', "{}", "[]", "1"),
    },
    { weight: 1, arbitrary: fc.constant(`{"__proto__":{"admin":true},"constructor":{"prototype":{}}}`) },
  ];
  if (example !== undefined) options.push({ weight: 5, arbitrary: mutateExample(example).map(json) });
  return fc.oneof(...options);
}

function pathValue(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...world.known_ids).map(encodeLoose) },
    { weight: 3, arbitrary: hostileString().map(encodeLoose) },
    { weight: 1, arbitrary: fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "..", "%2e%2e", "a%2Fb") },
  );
}

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes instead of throwing. */
export function encodeLoose(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    let out = "";
    for (const char of text) {
      const code = char.codePointAt(0)!;
      out +=
        code >= 0xd800 && code <= 0xdfff
          ? `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
          : encodeURIComponent(char);
    }
    return out.toUpperCase();
  }
}

const content_types = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/problem+json",
];
const other_methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];

export function fuzzRequest(routes: RouteSpec[], world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const credential_names = Object.keys(world.credentials);
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        params: fc.array(pathValue(world), {
          minLength: route.path_params.length,
          maxLength: route.path_params.length,
        }),
        query: fc.array(
          fc.oneof(
            ...(route.query.length > 0
              ? [
                  fc
                    .constantFrom(...route.query)
                    .chain((q) => fc.tuple(fc.constant(q.name), valueFor(q.schema, 0))),
                ]
              : []),
            fc.tuple(hostileString(), hostileString()),
          ),
          { maxLength: 3 },
        ),
        body: bodyText(route, world),
        content_type: fc.option(fc.constantFrom(...content_types), { freq: 5 }),
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(route.method) },
          fc.constantFrom(...other_methods),
        ),
        credential: fc.constantFrom(...credential_names),
        idempotency_key: fc.option(
          fc.oneof(
            fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
            fc.constantFrom("fuzz-shared-key", "x".repeat(256), " "),
          ),
          { freq: 2 },
        ),
      })
      .map((parts) => {
        let path = route.path;
        route.path_params.forEach((name, i) => {
          path = path.replace(name === "*" ? "{*}" : `{${name}}`, parts.params[i]!);
        });
        const query = parts.query
          .map(
            ([name, value]) =>
              `${encodeLoose(name)}=${encodeLoose(typeof value === "string" ? value : (JSON.stringify(value) ?? ""))}`,
          )
          .join("&");
        const headers: Record<string, string> = {};
        const auth = world.credentials[parts.credential];
        if (auth !== undefined) headers.authorization = auth;
        const sends_body = parts.method !== "GET" && parts.method !== "HEAD" && parts.body !== undefined;
        if (sends_body) headers["content-type"] = parts.content_type ?? "application/json";
        if (parts.idempotency_key !== null) headers["idempotency-key"] = parts.idempotency_key;
        return {
          route: `${route.method} ${route.path}`,
          method: parts.method,
          url: query === "" ? path : `${path}?${query}`,
          headers,
          body: sends_body ? parts.body : undefined,
          credential: parts.credential,
        };
      }),
  );
}
