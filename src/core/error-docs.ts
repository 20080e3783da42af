import { type ErrorCode, error_catalogue, error_codes } from "./error-catalogue.ts";

// docs/errors.md and the server's /problems pages are rendered from the one
// catalogue, so the documentation of a code cannot drift from its status.

const statuses_in_order = [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503] as const;

export function renderErrorsMarkdown(): string {
  const lines: string[] = [
    "# Error codes",
    "",
    "<!-- Generated from src/core/error-catalogue.ts by `npm run docs:errors`; a test fails when this file differs. -->",
    "",
    "Every error the API answers is an RFC 9457 problem (`application/problem+json`) with a `code` from this",
    "closed list. The `type` of a problem is `/problems/{code}` on the API server, which serves the entry",
    "below; `status` always equals the status listed here. The status rule: 400 the request is malformed;",
    "401 no valid credentials; 403 not allowed; 404 no such resource (also another party's resource); 409 a",
    "state or idempotency conflict; 413 too large; 415 not JSON; 422 well-formed but semantically invalid;",
    "429 too many requests; 5xx the server's own fault, with nothing written.",
    "",
  ];
  for (const status of statuses_in_order) {
    const codes = error_codes.filter((code) => error_catalogue[code].status === status);
    if (codes.length === 0) continue;
    lines.push(`## ${status}`, "", "| Code | Title | Meaning |", "| --- | --- | --- |");
    for (const code of [...codes].sort()) {
      const entry: { title: string; meaning: string; reserved?: string } = error_catalogue[code];
      const reserved = entry.reserved === undefined ? "" : ` *Reserved: ${entry.reserved}.*`;
      lines.push(`| <a id="${code}"></a>\`${code}\` | ${entry.title} | ${entry.meaning}${reserved} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

export function renderProblemPage(code: ErrorCode): string {
  const entry: { status: number; title: string; meaning: string; reserved?: string } = error_catalogue[code];
  const reserved =
    entry.reserved === undefined ? "" : `<p><em>Reserved: ${escapeHtml(entry.reserved)}.</em></p>`;
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(code)}: ${escapeHtml(entry.title)}</title></head>`,
    "<body>",
    `<h1><code>${escapeHtml(code)}</code>: ${escapeHtml(entry.title)}</h1>`,
    `<p>HTTP status <strong>${entry.status}</strong>.</p>`,
    `<p>${escapeHtml(entry.meaning)}</p>`,
    reserved,
    '<p><a href="/problems">All error codes</a></p>',
    "</body></html>",
  ].join("\n");
}

export function renderProblemIndex(): string {
  const items = [...error_codes]
    .sort()
    .map(
      (code) =>
        `<li><a href="/problems/${code}"><code>${code}</code></a> ${error_catalogue[code].status}: ${escapeHtml(error_catalogue[code].title)}</li>`,
    );
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>ClearSplit error codes</title></head>',
    "<body><h1>ClearSplit error codes</h1><ul>",
    ...items,
    "</ul></body></html>",
  ].join("\n");
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
