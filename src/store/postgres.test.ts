import { describe } from "vitest";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";
import { runStoreSuite } from "./store-suite.ts";

const database_url = process.env.DATABASE_URL;

// Runs in CI's PostgreSQL pass (.ci/run sets DATABASE_URL to a fresh database).
describe.skipIf(!database_url)("postgres.js adapter", () => {
  runStoreSuite("PostgreSQL", {
    open: async () => {
      const db = await openPostgres(database_url!, { connections_max: 4 });
      await migrate(db);
      return db;
    },
  });
});
