import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { type ErrorCode, error_catalogue, error_codes } from "./error-catalogue.ts";
import { renderErrorsMarkdown } from "./error-docs.ts";

const root = new URL("../..", import.meta.url).pathname;
const src = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

// The constructors and functions that turn a code into an error the API answers.
const producers = new Set(["DomainError", "problem"]);

interface Site {
  file: string;
  line: number;
  text: string;
}

/** Every first argument of `new DomainError(…)` / `problem(…)`, and every literal a function typed `: ErrorCode` returns. */
function producedCodes(): { literals: Map<string, Site[]>; opaque: Site[] } {
  const literals = new Map<string, Site[]>();
  const opaque: Site[] = [];
  for (const path of sourceFiles(src)) {
    const text = readFileSync(path, "utf8");
    if (!/DomainError|problem\(|ErrorCode/.test(text)) continue;
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const site = (node: ts.Node): Site => ({
      file: relative(root, path),
      line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      text: node.getText().slice(0, 80),
    });
    const record = (node: ts.Node): void => {
      if (ts.isStringLiteral(node)) {
        literals.set(node.text, [...(literals.get(node.text) ?? []), site(node)]);
      } else if (ts.isConditionalExpression(node)) {
        record(node.whenTrue);
        record(node.whenFalse);
      } else if (ts.isParenthesizedExpression(node)) {
        record(node.expression);
      } else if (ts.isIdentifier(node) || ts.isPropertyAccessExpression(node) || ts.isCallExpression(node)) {
        // A value already typed ErrorCode (a parameter, `error.code`, a helper's result).
      } else {
        opaque.push(site(node));
      }
    };
    const visit = (node: ts.Node, returns_code: boolean): void => {
      if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
        const callee = node.expression;
        const name = ts.isIdentifier(callee) ? callee.text : undefined;
        const first = node.arguments?.[0];
        if (name !== undefined && producers.has(name) && first !== undefined) record(first);
      }
      if (returns_code && ts.isReturnStatement(node) && node.expression !== undefined)
        record(node.expression);
      const fn = ts.isFunctionLike(node) ? node : undefined;
      const next = fn === undefined ? returns_code : fn.type?.getText() === "ErrorCode";
      ts.forEachChild(node, (child) => visit(child, next));
    };
    visit(file, false);
  }
  return { literals, opaque };
}

describe("the error catalogue", () => {
  const { literals, opaque } = producedCodes();

  it("holds every code the source produces, each as a literal or an ErrorCode-typed value", () => {
    const unknown = [...literals].filter(([code]) => !Object.hasOwn(error_catalogue, code));
    expect(unknown.map(([code, sites]) => `${code} at ${sites[0]!.file}:${sites[0]!.line}`)).toEqual([]);
    expect(opaque).toEqual([]);
    // The scan itself must see the producers, or the checks above prove nothing.
    expect(literals.size).toBeGreaterThan(80);
  });

  it("has no entry that nothing produces unless it is marked reserved, and no reserved entry that is produced", () => {
    const reserved = (code: ErrorCode): boolean =>
      (error_catalogue[code] as { reserved?: string }).reserved !== undefined;
    expect(error_codes.filter((code) => !literals.has(code) && !reserved(code))).toEqual([]);
    expect(error_codes.filter((code) => literals.has(code) && reserved(code))).toEqual([]);
  });

  it("follows the status rule: codes are snake_case, statuses are the catalogue's, titles and meanings are one line", () => {
    for (const code of error_codes) {
      const entry = error_catalogue[code];
      expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect([400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 429, 431, 500, 503]).toContain(entry.status);
      expect(entry.title.length).toBeGreaterThan(0);
      expect(entry.meaning).not.toContain("\n");
      expect(entry.meaning).toMatch(/\.$/);
      if (code.endsWith("_not_found")) expect(entry.status).toBe(404);
      if (code.endsWith("_conflict")) expect(entry.status).toBe(409);
    }
  });

  it("is what docs/errors.md says (regenerate with `npm run docs:errors`)", () => {
    expect(readFileSync(join(root, "docs/errors.md"), "utf8")).toBe(renderErrorsMarkdown());
  });
});
