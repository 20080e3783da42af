import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AssertionError } from "../core/assert.ts";
import { type DomainError, isDomainError } from "../core/errors.ts";

// RFC 9457 problem details. Every error leaves the API in this shape, and
// domain error codes map to HTTP statuses here and nowhere else.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string | undefined;
  instance?: string | undefined;
  [extension: string]: unknown;
}

const status_by_code: Record<string, number> = {
  idempotency_key_conflict: 409,
  order_conflict: 409,
  party_exists: 409,
  policy_published: 409,
  order_state_invalid: 409,
  insufficient_funds: 422,
  split_merchant_negative: 422,
  split_cap_exceeded: 422,
  refund_exceeds_paid: 422,
  refund_qty_exceeds: 422,
  refund_shipping_exceeds: 422,
  refunds_too_many: 422,
  refund_conflict: 409,
  policy_not_assigned: 422,
  party_unknown: 422,
  category_unknown: 422,
  hold_voided: 409,
  hold_expired: 409,
  hold_already_posted: 409,
  account_closed: 409,
  not_found: 404,
  order_not_found: 404,
  party_not_found: 404,
  policy_not_found: 404,
  account_not_found: 404,
  record_not_found: 404,
  hold_not_found: 404,
  api_key_not_found: 404,
  user_not_found: 404,
  user_exists: 409,
  csrf_rejected: 403,
  login_locked: 429,
  stream_full: 503,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  rate_limited: 429,
  not_ready: 503,
  database_unavailable: 503,
  // The HTTP edge (src/http/hardening.ts).
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  url_invalid: 400,
  http_invalid: 400,
  nul_character: 400,
  json_too_deep: 400,
  // Transparency log.
  record_not_sequenced: 409,
  record_integrity_failed: 500,
  tenant_not_found: 404,
  checkpoint_not_found: 404,
  tile_not_found: 404,
};

export function statusForCode(code: string): number {
  return status_by_code[code] ?? 400;
}

export function problemFromDomain(error: DomainError, instance?: string): Problem {
  const status = statusForCode(error.code);
  return {
    type: `https://clearsplit.dev/problems/${error.code.replaceAll("_", "-")}`,
    title: titleFor(status),
    status,
    detail: error.message,
    code: error.code,
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.detail ?? {}),
    ...(instance === undefined ? {} : { instance }),
  };
}

export function problem(status: number, code: string, detail: string, field?: string): Problem {
  return {
    type: `https://clearsplit.dev/problems/${code.replaceAll("_", "-")}`,
    title: titleFor(status),
    status,
    detail,
    code,
    ...(field === undefined ? {} : { field }),
  };
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    408: "Request Timeout",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  return titles[status] ?? "Error";
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.status(body.status).type("application/problem+json").send(body);
}

/**
 * A lost or refused database connection (the server restarting, a backend
 * terminated, the network): the transaction rolled back, so the request can
 * be retried. postgres.js reconnects on the next query.
 */
export function databaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return (
    /^(08|57P)/.test(code) ||
    [
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
      "CONNECTION_DESTROYED",
      "CONNECT_TIMEOUT",
      "ECONNREFUSED",
      "ECONNRESET",
    ].includes(code)
  );
}

/** Fastify's error handler: domain errors keep their code; schema errors name the field; nothing leaks a stack. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (isDomainError(error)) return sendProblem(reply, problemFromDomain(error, request.url));
  const edge = (error as { problem?: Problem }).problem;
  if (edge !== undefined && typeof edge.code === "string") return sendProblem(reply, edge);
  // The database refused a value as data (class 22: out of range, invalid
  // text, bad encoding): input no check above caught. Nothing was written.
  const sqlstate = (error as { code?: unknown }).code;
  if (typeof sqlstate === "string" && /^22[0-9A-Z]{3}$/.test(sqlstate)) {
    request.log.warn({ sqlstate }, "input refused by the database");
    return sendProblem(
      reply,
      problem(400, "request_invalid", "a value in the request is out of range or malformed"),
    );
  }
  if (databaseUnavailable(error)) {
    request.log.warn({ err: error }, "database unavailable");
    reply.header("retry-after", "1");
    return sendProblem(
      reply,
      problem(503, "database_unavailable", "the database is not reachable; nothing was written, retry"),
    );
  }
  const fastify_error = error as FastifyError;
  if (fastify_error.validation) {
    const first = fastify_error.validation[0];
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = (first?.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
    const field = [
      fastify_error.validationContext === "body" ? "" : fastify_error.validationContext,
      path,
      missing,
    ]
      .filter((part) => part !== undefined && part !== "")
      .join(".")
      .replace(/\.(\d+)(?=\.|$)/g, "[$1]");
    const subject = field || fastify_error.validationContext || "request";
    const detail =
      missing !== undefined ? `${subject} is required` : `${subject} ${first?.message ?? "is invalid"}`;
    return sendProblem(reply, problem(400, "request_invalid", detail, field || undefined));
  }
  const status = fastify_error.statusCode ?? 500;
  if (status === 413)
    return sendProblem(
      reply,
      problem(413, "payload_too_large", "the request body is larger than this route accepts"),
    );
  if (status === 415)
    return sendProblem(reply, problem(415, "unsupported_media_type", "send the body as application/json"));
  if (status === 400 && fastify_error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return sendProblem(reply, problem(400, "json_invalid", "the request body is not valid JSON"));
  }
  if (status >= 400 && status < 500) {
    return sendProblem(reply, problem(status, "request_invalid", fastify_error.message));
  }
  request.log.error({ err: error, assertion: error instanceof AssertionError }, "unhandled error");
  return sendProblem(
    reply,
    problem(500, "internal_error", "the server could not complete the request; nothing was written"),
  );
}
