import type { Queryable } from "../../store/database.ts";
import { changedTables, databaseDigest } from "./digest.ts";
import type { FuzzRequest } from "./requests.ts";

// Sends generated requests one at a time to a real server and judges every
// answer: never 5xx; every error RFC 9457 problem+json without a stack or SQL
// text; no data the credential may not see; and a refused request leaves the
// database digest exactly as it was.

export const fuzz_request_timeout_ms = 15_000;

export interface FuzzFailure {
  index: number;
  request: FuzzRequest;
  status: number;
  why: string;
  response: string;
}

export interface FuzzReport {
  sent: number;
  by_status: Record<string, number>;
  refused_writes_checked: number;
  failures: FuzzFailure[];
}

export interface FuzzOptions {
  base_url: string;
  db: Queryable;
  /** Per credential: strings whose appearance in a response (when the request did not carry them) is a leak. */
  forbidden: Record<string, string[]>;
  failures_max?: number;
  /** The tenants whose rows the digest reads (the credentials' tenants); every tenant's when absent. */
  tenant_ids?: readonly string[];
}

// What a stack trace or a database error looks like in a response.
const leak_patterns = [
  /\bat [\w.<>]+ \(/,
  /node_modules/,
  /\.ts:\d+:\d+/,
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
  /syntax error at or near/i,
  /violates \w+ constraint/i,
  /relation "[^"]+"/i,
  /PostgresError|DatabaseError|SQLSTATE/i,
  /invalid input syntax for type/i,
];
const write_methods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function runFuzz(requests: FuzzRequest[], options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { sent: 0, by_status: {}, refused_writes_checked: 0, failures: [] };
  const failures_max = options.failures_max ?? 20;
  let before = await databaseDigest(options.db, options.tenant_ids);
  for (const [index, request] of requests.entries()) {
    const fail = (status: number, why: string, response: string) => {
      if (report.failures.length < failures_max)
        report.failures.push({ index, request, status, why, response: response.slice(0, 500) });
    };
    let status = 0;
    let text = "";
    let type = "";
    try {
      const response = await fetch(`${options.base_url}${request.url}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(fuzz_request_timeout_ms),
      });
      status = response.status;
      type = response.headers.get("content-type") ?? "";
      if (type.startsWith("text/event-stream")) await response.body?.cancel();
      else text = await response.text();
    } catch (error) {
      fail(0, `no answer: ${(error as Error).message}`, "");
      continue;
    }
    report.sent++;
    report.by_status[String(status)] = (report.by_status[String(status)] ?? 0) + 1;
    const request_text = `${decodeSafely(request.url)}\n${request.url}\n${request.body ?? ""}`;
    if (status >= 500) fail(status, "5xx", text);
    if (status >= 400 && request.method !== "HEAD") {
      if (!type.startsWith("application/problem+json")) fail(status, `error as ${type || "no type"}`, text);
      else {
        const body = parseJson(text) as { status?: unknown; code?: unknown } | undefined;
        if (body?.status !== status || typeof body.code !== "string")
          fail(status, "problem without matching status and code", text);
      }
    }
    for (const pattern of leak_patterns) {
      if (pattern.test(text) && !pattern.test(request_text)) fail(status, `leaks ${pattern}`, text);
    }
    for (const marker of options.forbidden[request.credential] ?? []) {
      if (text.includes(marker) && !request_text.includes(marker))
        fail(status, `shows ${marker}, which ${request.credential} may not see`, text);
    }
    // Every request is followed by a digest: a refused one must have written
    // nothing; an accepted write moves the baseline.
    const after = await databaseDigest(options.db, options.tenant_ids);
    const refused = status >= 400;
    if (refused && write_methods.has(request.method)) report.refused_writes_checked++;
    if ((refused || !write_methods.has(request.method)) && after.digest !== before.digest) {
      fail(
        status,
        `a ${refused ? "refused" : "read"} request changed ${changedTables(before.tables, after.tables).join(", ")}`,
        text,
      );
    }
    before = after;
  }
  return report;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeSafely(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
