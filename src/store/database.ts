// The one database port the rest of ClearSplit sees. Both adapters return the
// same JS types: int8 → bigint, numeric → string, timestamptz → Date,
// bytea → Uint8Array. Parameters may be bigint, Date, string, number, boolean,
// null, Uint8Array, or arrays of those.
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly backend: "pglite" | "postgres";
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script with no parameters (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * postgres.js infers an array's type from its first element and gets bigint
 * and boolean arrays wrong, so array elements travel as text and the server's
 * parameter description (`$1::int8[]`, `$2::uuid[]`) types them. Its bool
 * serializer maps every value but `true` to false, so boolean arrays must be
 * declared as text and cast in SQL: `$3::text[]::bool[]`. Likewise a JSON
 * parameter is sent as JSON text to `$n::text::jsonb`: given a jsonb-typed
 * parameter, postgres.js would encode the already-encoded string again.
 */
export function normaliseParam(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(arrayElementText);
  return value;
}

function arrayElementText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) throw new TypeError("nested array parameters are not supported");
  return String(value);
}

export function normaliseParams(params: readonly unknown[] | undefined): unknown[] {
  return params === undefined ? [] : params.map(normaliseParam);
}
