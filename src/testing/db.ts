import { newId } from "../core/ids.ts";
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";

// Test support: the backend under test is chosen by DATABASE_URL, so the same
// suite runs once on embedded PGlite and once on a real PostgreSQL.

export async function openTestDatabase(): Promise<Database> {
  return openDatabase({ data_dir: null, connections_max: 12 });
}

/** A clock tests can move; starts at a fixed instant so figures are reproducible. */
export function testClock(start = "2026-11-25T10:00:00Z"): {
  now: () => Date;
  advance: (ms: number) => void;
  set: (iso: string) => void;
} {
  let current_ms = Date.parse(start);
  return {
    now: () => new Date(current_ms),
    advance: (ms) => {
      current_ms += ms;
    },
    set: (iso) => {
      current_ms = Date.parse(iso);
    },
  };
}

/** Each test gets its own tenant, so suites can share one PostgreSQL database. */
export async function newTestTenant(ctx: ServiceContext, prefix = "t"): Promise<string> {
  const id = `${prefix}-${newId().replaceAll("-", "").slice(-20)}`;
  await ensureTenant(ctx, { id, name: `test ${id}` });
  return id;
}
