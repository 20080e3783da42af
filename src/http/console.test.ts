import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../store/database.ts";
import { openTestDatabase } from "../testing/db.ts";
import { buildApp } from "./app.ts";
import { isConsolePath } from "./console.ts";

// The built console is served at `/` without a credential, deep links fall back
// to index.html, and the API's own paths never do: an unknown /v1 path stays a
// problem+json 404 rather than a page of HTML.

let db: Database;
let dir: string;
beforeAll(async () => {
  db = await openTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "clearsplit-console-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log('hi')");
  writeFileSync(join(dir, ".build-sha256"), "0".repeat(64));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("web console serving", () => {
  it("serves index.html at / and at deep links, with a strict content security policy", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() }, console_dir: dir });
    for (const url of ["/", "/orders/WST-1", "/parties/m-1/entries?lang=en", "/dashboard"]) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers["content-type"], url).toContain("text/html");
      expect(response.body).toContain("<title>console</title>");
      expect(response.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(response.headers["cache-control"]).toBe("no-cache");
    }
    await app.close();
  });

  it("serves hashed assets as immutable and hides the build stamp", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() }, console_dir: dir });
    const asset = await app.inject("/assets/index-abc123.js");
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await app.inject("/.build-sha256")).body).not.toContain("0".repeat(64));
    await app.close();
  });

  it("never answers the API's paths with the console", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() }, console_dir: dir });
    for (const url of ["/v1/nothing", "/v1", "/log/x/nothing", "/assets/missing.js", "/openapi.json/x"]) {
      const response = await app.inject({ url, headers: { accept: "text/html" } });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers["content-type"], url).toContain("application/problem+json");
    }
    expect((await app.inject({ method: "POST", url: "/orders/x" })).statusCode).toBe(404);
    expect((await app.inject("/v1/auth/me")).statusCode).toBe(401);
    expect((await app.inject("/openapi.json")).json().openapi).toBe("3.1.0");
    await app.close();
  });

  it("without a console directory, / is a 404 as before", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() } });
    expect((await app.inject("/")).statusCode).toBe(404);
    await app.close();
  });

  it("classifies paths", () => {
    expect(isConsolePath("/orders/1")).toBe(true);
    expect(isConsolePath("/")).toBe(true);
    for (const path of [
      "/v1",
      "/v1/x",
      "/log/t/checkpoint",
      "/docs",
      "/docs/static/x",
      "/openapi.json",
      "/healthz",
    ])
      expect(isConsolePath(path), path).toBe(false);
  });
});
