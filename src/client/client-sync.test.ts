import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../store/database.ts";
import { openTestDatabase } from "../testing/db.ts";
import { api_types_path, apiTypesSource, serverOpenApiDocument } from "./generate.ts";

// The typed client's types are generated from the server's document; this
// regenerates them and fails when the committed file is stale.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("client types", () => {
  it("match what openapi-typescript generates from /openapi.json today (run `npm run client:generate`)", async () => {
    const document = await serverOpenApiDocument({ db, now: () => new Date() });
    const fresh = await apiTypesSource(document);
    const committed = readFileSync(api_types_path, "utf8");
    expect(committed === fresh, "src/client/api-types.ts is stale: run `npm run client:generate`").toBe(true);
    // Every path of the document is typed.
    for (const path of Object.keys(document.paths ?? {})) expect(committed).toContain(`"${path}": {`);
  });
});
