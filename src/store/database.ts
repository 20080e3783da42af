// The one database port the rest of ClearSplit sees. Both adapters return the
// same JS types: int8 → bigint, numeric → string, timestamptz → Date,
// bytea → Uint8Array. Parameters may be bigint, Date, string, number, boolean,
// null, Uint8Array, or arrays of those.
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * True on a Citus coordinator (issue 20): statements go one at a time in
   * forms Citus routes to a single tenant's shard (store/write-set.ts,
   * docs/scale.md §3). Absent or false on PostgreSQL and PGlite.
   */
  readonly sharded?: boolean;
}

export interface Database extends Queryable {
  readonly backend: "pglite" | "postgres";
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script with no parameters (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a gzipped tarball (`clearsplit backup`). */
  dumpDataDir?(): Promise<Blob>;
  /** Connections busy with a query or transaction now, and the pool's size (for /metrics). */
  poolUse?(): { in_use: number; max: number };
}

/**
 * postgres.js infers an array's type from its first element and gets bigint
 * and boolean arrays wrong, and its generic array serializer is a hot spot on
 * the booking path. So every array parameter is sent as one PostgreSQL array
 * literal in text, which both drivers pass through untouched, and the server's
 * parameter description (`$1::int8[]`, `$2::uuid[]`) types it. Booleans travel
 * as `true`/`false` text and are cast in SQL: `$3::text[]::bool[]`. Likewise a
 * JSON parameter is sent as JSON text to `$n::text::jsonb`: given a
 * jsonb-typed parameter, postgres.js would encode the already-encoded string again.
 */
export function normaliseParam(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value);
  return value;
}

// Elements that need no quoting in an array literal: ids, numbers, ISO instants.
const bare_element = /^[0-9A-Za-z_.:+-]+$/;
const needs_escape = /["\\]/;
const escape_characters = /["\\]/g;

/** The text form of a one-dimensional PostgreSQL array. */
export function arrayLiteral(values: readonly unknown[]): string {
  let out = "{";
  // Batches repeat the same instant (recorded_at, effective_at) on many rows.
  let last_date: Date | undefined;
  let last_date_text = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    if (typeof value === "number" || typeof value === "bigint") out += String(value);
    else if (value instanceof Date) {
      if (value !== last_date) {
        last_date = value;
        last_date_text = value.toISOString();
      }
      out += last_date_text;
    } else if (value === null || value === undefined) out += "NULL";
    else {
      if (Array.isArray(value)) throw new TypeError("nested array parameters are not supported");
      const text = String(value);
      if (bare_element.test(text) && (text.length !== 4 || text.toLowerCase() !== "null")) out += text;
      else out += `"${needs_escape.test(text) ? text.replace(escape_characters, "\\$&") : text}"`;
    }
  }
  return `${out}}`;
}

export function normaliseParams(params: readonly unknown[] | undefined): unknown[] {
  return params === undefined ? [] : params.map(normaliseParam);
}
