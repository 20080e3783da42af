import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AssertionError } from "../core/assert.ts";
import { type ErrorCode, error_catalogue, problemTypePath } from "../core/error-catalogue.ts";
import { type DomainError, isDomainError } from "../core/errors.ts";

// RFC 9457 problem details. Every error leaves the API in this shape, and
// each code's HTTP status is read from the closed catalogue in
// core/error-catalogue.ts and nowhere else.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  field?: string | undefined;
  instance?: string | undefined;
  [extension: string]: unknown;
}

export function statusForCode(code: ErrorCode): number {
  return error_catalogue[code].status;
}

export function problemFromDomain(error: DomainError, instance?: string): Problem {
  return {
    ...problem(error.code, error.message, error.field),
    ...(error.detail ?? {}),
    ...(instance === undefined ? {} : { instance }),
  };
}

/**
 * A problem for a catalogue code. The status and title come from the catalogue;
 * `type` is the code's documentation page on this server (a relative reference,
 * RFC 9457 §3.1.1, resolved against the API's own origin).
 */
export function problem(code: ErrorCode, detail: string, field?: string): Problem {
  const entry = error_catalogue[code];
  return {
    type: problemTypePath(code),
    title: entry.title,
    status: entry.status,
    detail,
    code,
    ...(field === undefined ? {} : { field }),
  };
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
      problem("request_invalid", "a value in the request is out of range or malformed"),
    );
  }
  if (databaseUnavailable(error)) {
    request.log.warn({ err: error }, "database unavailable");
    reply.header("retry-after", "1");
    return sendProblem(
      reply,
      problem("database_unavailable", "the database is not reachable; nothing was written, retry"),
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
    return sendProblem(reply, problem("request_invalid", detail, field || undefined));
  }
  const status = fastify_error.statusCode ?? 500;
  if (status === 413)
    return sendProblem(
      reply,
      problem("payload_too_large", "the request body is larger than this route accepts"),
    );
  if (status === 415)
    return sendProblem(reply, problem("unsupported_media_type", "send the body as application/json"));
  if (status === 400 && fastify_error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return sendProblem(reply, problem("json_invalid", "the request body is not valid JSON"));
  }
  if (status >= 400 && status < 500) {
    return sendProblem(reply, problem(codeForClientStatus(status), fastify_error.message));
  }
  request.log.error({ err: error, assertion: error instanceof AssertionError }, "unhandled error");
  return sendProblem(
    reply,
    problem("internal_error", "the server could not complete the request; nothing was written"),
  );
}

// Fastify's own 4xx errors (a plugin's 401, 404 or 429) keep their meaning
// through the catalogue; anything else the client sent wrong is a bad request.
function codeForClientStatus(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  return "request_invalid";
}
