import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Problem, problem, sendProblem } from "./problem.ts";

// The edge in front of every route: what the framework and Node's HTTP parser
// would otherwise answer themselves (in their own JSON, or as a 500 further
// down) leaves here as RFC 9457 problem+json. Hostile input is refused before
// it reaches a route: NUL characters (PostgreSQL text cannot hold them),
// JSON nested beyond any real document, malformed URLs and headers.

/** Deeper JSON than any order, refund or policy needs; deeper is refused before parsing. */
export const json_depth_max = 64;

/** Fastify's `frameworkErrors`: malformed `%` escapes and over-long path parameters. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header("x-request-id", request.id);
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    void sendProblem(reply, problem("uri_too_long", "a path parameter is longer than this API accepts"));
    return;
  }
  if (error.code === "FST_ERR_BAD_URL") {
    void sendProblem(reply, problem("url_invalid", "the URL has a malformed %-escape"));
    return;
  }
  void sendProblem(reply, problem("request_invalid", "the request could not be routed"));
}

/**
 * Node's `clientError`: the request never became a request (malformed HTTP, an
 * unknown method, a URL or headers over the parser's limit). Answered on the
 * raw socket, as problem+json, then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const body =
    error.code === "HPE_HEADER_OVERFLOW"
      ? problem("headers_too_large", "the request line or headers are larger than this server accepts")
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? problem("request_timeout", "the request was not received in time")
        : problem("http_invalid", "the request is not well-formed HTTP/1.1");
  const text = JSON.stringify(body);
  const reason = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" }[
    body.status
  ];
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.status} ${reason}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/** How deep a JSON text nests, counted without parsing; stops counting past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let in_string = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (in_string) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) in_string = false;
    } else if (c === 34) in_string = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Why a string cannot be stored as text: a NUL, or a lone UTF-16 surrogate. */
type StringFault = "nul" | "lone_surrogate";

// JSON's \uXXXX escapes can spell half of a surrogate pair, which is no Unicode
// character: JSON.parse accepts it, but PostgreSQL refuses to store it in text or
// jsonb, and the log's canonical form (RFC 8785) cannot hash it. Refusing it here
// names the field instead of failing inside a transaction.
function stringFault(value: string): StringFault | null {
  if (value.includes("\u0000")) return "nul";
  // Node has String.prototype.isWellFormed since 20; the ES2022 lib does not name it.
  return (value as string & { isWellFormed(): boolean }).isWellFormed() ? null : "lone_surrogate";
}

/** The first string (or key) that cannot be stored as text, with its path, or null. */
export function badStringPath(value: unknown, path = ""): { path: string; fault: StringFault } | null {
  if (typeof value === "string") {
    const fault = stringFault(value);
    return fault === null ? null : { path: path || "body", fault };
  }
  if (value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = badStringPath(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = path === "" ? key : `${path}.${key}`;
    const fault = stringFault(key);
    if (fault !== null) return { path: here, fault };
    const found = badStringPath(item, here);
    if (found !== null) return found;
  }
  return null;
}

function stringProblem(bad: { path: string; fault: StringFault }): Problem {
  return bad.fault === "nul"
    ? problem("nul_character", `${bad.path} contains a NUL character`, bad.path)
    : problem(
        "string_not_unicode",
        `${bad.path} contains a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape), which is not Unicode text`,
        bad.path,
      );
}

function inputError(status: number, body: Problem): Error {
  return Object.assign(new Error(body.detail), { statusCode: status, problem: body });
}

export function installHardening(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, text, done) => {
    const body = text as string;
    if (jsonDepthExceeds(body, json_depth_max)) {
      done(
        inputError(
          400,
          problem("json_too_deep", `JSON may nest at most ${json_depth_max} levels of objects and arrays`),
        ),
        undefined,
      );
      return;
    }
    parse(request, body, (error, value) => {
      if (error) return done(error, undefined);
      const bad = badStringPath(value);
      if (bad !== null) {
        return done(inputError(400, stringProblem(bad)), undefined);
      }
      done(null, value);
    });
  });
  // After authentication (registered later than it): a NUL in the path or query.
  app.addHook("onRequest", async (request, reply) => {
    const url = request.raw.url ?? "";
    if (url.includes("\u0000") || /%00/i.test(url)) {
      return sendProblem(reply, problem("nul_character", "the URL contains a NUL character (%00)", "url"));
    }
  });
}
