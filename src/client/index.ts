import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./api-types.ts";
import { ClearSplitError, errorFromResponse } from "./problem-error.ts";
import { attemptsOf, type RetryOptions, retry_defaults, retryingFetch } from "./retrying-fetch.ts";

// The typed ClearSplit client (`clearsplit/client`, docs/client.md). Types come
// from the server's OpenAPI document (api-types.ts, generated); requests go
// through openapi-fetch. On top of it:
// - every write gets an Idempotency-Key, made once per call and reused by each
//   retry, so a retried booking is answered as a replay, never booked twice;
// - safe retries with backoff and a bound (retry.ts);
// - problem+json answers become ClearSplitError with status, code and field;
// - list routes are async iterables over cursor pages.
// It uses only fetch and WebCrypto, so it runs in Node and in browsers.

export type { paths } from "./api-types.ts";
export { ClearSplitError, isClearSplitError, type ProblemBody } from "./problem-error.ts";
export type { RetryOptions } from "./retrying-fetch.ts";

export interface ClientOptions {
  /** The server's base URL, e.g. `https://clearsplit.example` (no trailing `/v1`). */
  baseUrl: string;
  /** An API key, `cs_live_<id>_<secret>`, sent as a bearer token. */
  apiKey?: string;
  retry?: Partial<RetryOptions>;
  /** Replaces the global fetch (a proxy agent, a test double of the network). */
  fetch?: typeof fetch;
  /** Makes Idempotency-Keys; a random UUID by default. */
  idempotencyKey?: () => string;
  headers?: Record<string, string>;
}

/** A page of a list route, the API's one pagination shape. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const page_limit_default = 100;
const write_methods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Per-call options of a write: a key of the caller's own, e.g. derived from the mall's order number. */
export interface WriteOptions {
  idempotencyKey?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the documented shapes of responses the document leaves open.
type Json = any;

interface FetchResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The body of a successful answer, or a ClearSplitError for any other. */
async function unwrap<T = Json>(call: Promise<FetchResult>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined)
    throw errorFromResponse(response.status, error, attemptsOf(response));
  return data as T;
}

function keyHeader(options: WriteOptions | undefined): { headers?: Record<string, string> } {
  return options?.idempotencyKey === undefined
    ? {}
    : { headers: { "Idempotency-Key": options.idempotencyKey } };
}

/** Walks a cursor-paged list route: yields every item, fetching pages as it goes. */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(cursor);
    for (const item of page.items) yield item;
    if (page.next_cursor === null || page.next_cursor === undefined) return;
    // A server that hands the same cursor back would loop for ever.
    if (seen.has(page.next_cursor)) throw new Error(`the server repeated cursor ${page.next_cursor}`);
    seen.add(page.next_cursor);
    cursor = page.next_cursor;
  }
}

type Query = Record<string, string | number | boolean | undefined>;

function pageQuery(query: Query | undefined, cursor: string | undefined): Json {
  const merged: Query = { limit: page_limit_default, ...query };
  if (cursor !== undefined) merged.cursor = cursor;
  // The document types query values as strings; numbers travel as their text.
  return Object.fromEntries(
    Object.entries(merged)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

export function createClearSplitClient(options: ClientOptions) {
  const retry: RetryOptions = { ...retry_defaults, ...options.retry };
  const makeKey = options.idempotencyKey ?? (() => globalThis.crypto.randomUUID());
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    fetch: retryingFetch(retry, options.fetch ?? globalThis.fetch),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  api.use({
    onRequest({ request }) {
      if (options.apiKey !== undefined) request.headers.set("authorization", `Bearer ${options.apiKey}`);
      // Made here, once per call, before the retrying fetch: every retry carries the same key.
      if (write_methods.has(request.method) && !request.headers.has("idempotency-key")) {
        request.headers.set("idempotency-key", makeKey());
      }
      return request;
    },
  });
  // The typed routes are called through a loosely typed view where the
  // document does not describe a response yet; the path strings still come
  // from `paths`, so a removed route fails to compile.
  const raw = api as unknown as Record<
    "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    (path: keyof paths, init?: Json) => Promise<FetchResult>
  >;
  const path = (id: string): Json => ({ path: { id } });

  const orders = {
    create: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders", { body, ...keyHeader(write) })),
    createBatch: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders/batch", { body, ...keyHeader(write) })),
    get: (id: string) => unwrap(raw.GET("/v1/orders/{id}", { params: path(id) })),
    page: (query?: Query, cursor?: string) =>
      unwrap<Page<Json>>(raw.GET("/v1/orders", { params: { query: pageQuery(query, cursor) } })),
    list: (query?: Query) => paginate((cursor) => orders.page(query, cursor)),
    complete: (id: string, body: Json = {}, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders/{id}/complete", { params: path(id), body, ...keyHeader(write) })),
    release: (id: string, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders/{id}/release", { params: path(id), body: {}, ...keyHeader(write) })),
    refund: (id: string, body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders/{id}/refunds", { params: path(id), body, ...keyHeader(write) })),
    chargeback: (id: string, body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/orders/{id}/chargebacks", { params: path(id), body, ...keyHeader(write) })),
  };

  const parties = {
    create: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/parties", { body, ...keyHeader(write) })),
    get: (id: string) => unwrap(raw.GET("/v1/parties/{id}", { params: path(id) })),
    page: (query?: Query, cursor?: string) =>
      unwrap<Page<Json>>(raw.GET("/v1/parties", { params: { query: pageQuery(query, cursor) } })),
    list: (query?: Query) => paginate((cursor) => parties.page(query, cursor)),
    balances: (id: string, query?: Query) =>
      unwrap(raw.GET("/v1/parties/{id}/balances", { params: { ...path(id), query: query ?? {} } })),
    entriesPage: (id: string, query?: Query, cursor?: string) =>
      unwrap<Page<Json>>(
        raw.GET("/v1/parties/{id}/entries", { params: { ...path(id), query: pageQuery(query, cursor) } }),
      ),
    entries: (id: string, query?: Query) => paginate((cursor) => parties.entriesPage(id, query, cursor)),
  };

  const policies = {
    create: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/policies", { body, ...keyHeader(write) })),
    get: (ref: string) => unwrap(raw.GET("/v1/policies/{ref}", { params: { path: { ref } } })),
    publish: (id: string, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/policies/{id}/publish", { params: path(id), body: {}, ...keyHeader(write) })),
    assign: (body: Json, write?: WriteOptions) =>
      unwrap(raw.PUT("/v1/policy-assignments", { body, ...keyHeader(write) })),
  };

  const ledger = {
    trialBalance: () => unwrap(raw.GET("/v1/ledger/trial-balance")),
  };

  const records = {
    proof: (id: string) => unwrap(raw.GET("/v1/records/{id}/proof", { params: path(id) })),
  };

  const apiKeys = {
    create: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/api-keys", { body, ...keyHeader(write) })),
    page: (query?: Query, cursor?: string) =>
      unwrap<Page<Json>>(raw.GET("/v1/api-keys", { params: { query: pageQuery(query, cursor) } })),
    revoke: (id: string, write?: WriteOptions) =>
      unwrap(raw.DELETE("/v1/api-keys/{id}", { params: path(id), ...keyHeader(write) })),
  };

  const users = {
    create: (body: Json, write?: WriteOptions) =>
      unwrap(raw.POST("/v1/users", { body, ...keyHeader(write) })),
    page: (query?: Query, cursor?: string) =>
      unwrap<Page<Json>>(raw.GET("/v1/users", { params: { query: pageQuery(query, cursor) } })),
    list: (query?: Query) => paginate((cursor) => users.page(query, cursor)),
    update: (id: string, body: Json, write?: WriteOptions) =>
      unwrap(raw.PATCH("/v1/users/{id}", { params: path(id), body, ...keyHeader(write) })),
  };

  return {
    /** Every route of the OpenAPI document, typed (openapi-fetch). Errors come back as values here. */
    api,
    orders,
    parties,
    policies,
    ledger,
    records,
    apiKeys,
    users,
    /** The caller's identity: role, tenant, party. */
    me: () => unwrap(raw.GET("/v1/auth/me")),
  };
}

export type ClearSplitClient = ReturnType<typeof createClearSplitClient>;

/** True for errors worth showing a person as "fix the data" rather than "try later". */
export function isClientFault(error: unknown): boolean {
  return (
    error instanceof ClearSplitError && error.status >= 400 && error.status < 500 && error.status !== 429
  );
}
