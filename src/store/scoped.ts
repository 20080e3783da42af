import { assert } from "../core/assert.ts";
import type { ReadScope } from "../core/auth/scope.ts";
import type { Database, Queryable, Row } from "./database.ts";

// Reads on a caller's behalf run inside a transaction as the non-owner role
// `clearsplit_reader`, with the caller's tenant and party in transaction-local
// settings. Row-level security (migration 005) then hides every row of another
// tenant or party from every statement in `fn`, whatever its WHERE clause says.
// The owner role, which writes, is unaffected. See docs/decisions.md §8.

export const reader_role = "clearsplit_reader";
/** The party setting that means "every party of the tenant". */
export const all_parties = "*";

/** Runs `fn` with a handle whose every query is confined to `scope` by the database. */
export async function withReadScope<T>(
  db: Database,
  scope: ReadScope,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  assert(scope.tenant_id.length > 0, "a read scope needs a tenant");
  assert(scope.party_id !== all_parties, "a party id may not be the wildcard");
  assert(scope.party_id === null || scope.party_id.length > 0, "an empty party id scopes nothing");
  return db.transaction(async (tx) => {
    // Reads only: a scoped handle must never become a path for writes.
    await tx.query("SET TRANSACTION READ ONLY");
    // On Citus isolation is the application's alone (docs/decisions.md, issue
    // 20): the policies' lookups of other tables cannot run on a shard, so the
    // reader role is not taken and every read's own tenant and party filters,
    // proven by src/http/isolation-matrix.test.ts, are what hold.
    if (tx.sharded === true) return fn(tx);
    await tx.query(`SET LOCAL ROLE ${reader_role}`);
    await tx.query(
      "SELECT set_config('clearsplit.tenant_id', $1, true), set_config('clearsplit.party_id', $2, true)",
      [scope.tenant_id, scope.party_id ?? all_parties],
    );
    return fn(tx);
  });
}

/**
 * A `Queryable` for functions that take one: each query runs in its own scoped
 * read-only transaction. Use `withReadScope` to run several reads in one snapshot.
 */
export function scopedQueryable(db: Database, scope: ReadScope): Queryable {
  return {
    // The store's queries take Citus's forms from it (issue 20): without it a
    // scoped read on Citus called a SQL function Citus cannot plan on a shard.
    ...(db.sharded === undefined ? {} : { sharded: db.sharded }),
    query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
      return withReadScope(db, scope, (tx) => tx.query<T>(text, params));
    },
  };
}
