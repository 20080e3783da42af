import { migrate } from "./migrate.ts";
import { openPglite } from "./pglite.ts";
import { runStoreSuite } from "./store-suite.ts";

runStoreSuite("PGlite", {
  open: async () => {
    const db = await openPglite();
    await migrate(db);
    return db;
  },
});
