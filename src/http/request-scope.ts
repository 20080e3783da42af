import type { FastifyRequest } from "fastify";
import { type ReadScope, readScopeOf } from "../core/auth/scope.ts";
import type { Database, Queryable } from "../store/database.ts";
import { withReadScope } from "../store/scoped.ts";
import { principalOf } from "./authenticate.ts";

/** The read scope of the caller: party-scoped roles see their own party only. */
export function scopeOf(request: FastifyRequest): ReadScope {
  return readScopeOf(principalOf(request));
}

/**
 * Runs a read for the caller under row-level security: the SQL filters by
 * scope, and the database refuses rows of other parties even if a filter is
 * forgotten (docs/security.md).
 */
export function scopedRead<T>(
  db: Database,
  request: FastifyRequest,
  read: (tx: Queryable, scope: ReadScope) => Promise<T>,
): Promise<T> {
  const scope = scopeOf(request);
  return withReadScope(db, scope, (tx) => read(tx, scope));
}

export function limitOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function instantOf(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}
