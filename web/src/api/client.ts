// The console's only way to the server: the public HTTP API, with the session
// cookie the browser holds and, on writes, the CSRF token the API asks for.

export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail?: string;
  field?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const csrf_cookie = "cs_csrf";
const unauthorized_listeners = new Set<() => void>();

/** Called when the API answers 401: the session ended (expired, revoked, signed out elsewhere). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorized_listeners.add(listener);
  return () => unauthorized_listeners.delete(listener);
}

export function csrfToken(): string | null {
  for (const pair of document.cookie.split(";")) {
    const [name, ...rest] = pair.trim().split("=");
    if (name === csrf_cookie) return rest.join("=");
  }
  return null;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text === "" ? path : `${path}?${text}`;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A raw body (a bill file) sent as is, with this content type. */
  raw?: { body: Blob; content_type: string };
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Text responses (checkpoints, vkeys) instead of JSON. */
  text?: boolean;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json, application/problem+json" };
  if (method !== "GET") {
    const token = csrfToken();
    if (token !== null) headers["x-csrf-token"] = token;
    // Every write is idempotent on the server; a retried click is not a second action.
    // A raw upload goes without the key: the server's idempotency hashes JSON bodies
    // and cannot hash a stream (a bill import is idempotent by the file's SHA-256).
    if (options.raw === undefined) headers["idempotency-key"] = crypto.randomUUID();
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.raw !== undefined) headers["content-type"] = options.raw.content_type;
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers,
    credentials: "same-origin",
    body:
      options.raw !== undefined
        ? options.raw.body
        : options.body === undefined
          ? null
          : JSON.stringify(options.body),
    signal: options.signal ?? null,
  });
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && !path.startsWith("/v1/auth/login"))
      for (const listener of unauthorized_listeners) listener();
    throw new ApiError(problem);
  }
  if (response.status === 204) return undefined as T;
  return (options.text ? await response.text() : await response.json()) as T;
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Partial<Problem>;
    return {
      status: response.status,
      code: typeof body.code === "string" ? body.code : "http_error",
      ...(typeof body.title === "string" ? { title: body.title } : {}),
      ...(typeof body.detail === "string" ? { detail: body.detail } : {}),
      ...(typeof body.field === "string" ? { field: body.field } : {}),
    };
  } catch {
    return { status: response.status, code: "http_error", detail: response.statusText };
  }
}

/** Whether an error means "this resource does not exist for you" (404 or 403): the UI shows not-found. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 403);
}

/** A message for a person: the problem's detail (naming the field), else the error's text. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError)
    return error.problem.field ? `${error.message} (${error.problem.field})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
