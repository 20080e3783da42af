import { DomainError } from "./errors.ts";

// One pagination for every list (decisions §20): a caller passes `limit`
// (1 to the list's named maximum) and the opaque `cursor` of the previous page,
// and gets `{ items, next_cursor }`, where `next_cursor` is null on the last
// page.
//
// One cursor encoding (issue 13 §7): a cursor is the JSON array
// `[list, ...sort key of the last item returned]` in base64url. It is opaque
// to callers, so its shape may change without a new version. The list name
// makes a cursor of one list meaningless to every other, and decoding checks
// each part against the column it is compared with (a uuid, a smallint, a
// timestamp, a text id, a log size), so a crafted cursor answers 400
// `cursor_invalid` instead of failing in the database.

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Every list that hands out cursors; a cursor names the list it came from. */
export type CursorList =
  | "account_entries"
  | "api_keys"
  | "assignments"
  | "audit_cases"
  | "audit_configs"
  | "audit_trail"
  | "bill_imports"
  | "checkpoints"
  | "disputes"
  | "inbox_items"
  | "line_proofs"
  | "orders"
  | "parties"
  | "party_entries"
  | "payouts"
  | "policies"
  | "report_runs"
  | "saved_reports"
  | "security_events"
  | "settlement_runs"
  | "users"
  | "webhook_deliveries"
  | "webhook_endpoints";

/** The longest cursor any list accepts: a list name and a few sort-key columns, base64url-encoded. */
export const cursor_length_max_chars = 512;

/** The longest text id a cursor carries (ids are bounded far below this at the edge). */
const cursor_id_length_max_chars = 128;
const smallint_max = 32_767;
const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Instants PostgreSQL and toISOString agree on (four-digit years).
const instant_ms_min = Date.parse("0001-01-01T00:00:00Z");
const instant_ms_max = Date.parse("9999-12-31T23:59:59.999Z");
const log_size_pattern = /^[1-9][0-9]{0,18}$/;
const log_size_max = 2n ** 63n - 1n;

/**
 * What a cursor part holds, and what it decodes to: `uuid` and `id` (text
 * without NUL, bounded) a string, `instant` a Date, `smallint` a number in
 * 0..32767, `size` (a log size, int8) a bigint above zero.
 */
export type CursorColumn = "uuid" | "id" | "instant" | "smallint" | "size";
type Decoded<C extends CursorColumn> = C extends "instant"
  ? Date
  : C extends "smallint"
    ? number
    : C extends "size"
      ? bigint
      : string;

/** A sort-key part as a list hands it to `encodeCursor`. */
export type CursorPart = string | number | bigint | Date;

export function invalidCursor(): DomainError {
  return new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
}

export function encodeCursor(list: CursorList, key: readonly CursorPart[]): string {
  const parts = key.map((part) =>
    part instanceof Date ? part.toISOString() : typeof part === "bigint" ? part.toString() : part,
  );
  const bytes = new TextEncoder().encode(JSON.stringify([list, ...parts]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodedPart(column: CursorColumn, part: unknown): Date | number | bigint | string {
  switch (column) {
    case "uuid":
      if (typeof part === "string" && uuid_pattern.test(part)) return part;
      break;
    case "id":
      if (
        typeof part === "string" &&
        part.length > 0 &&
        part.length <= cursor_id_length_max_chars &&
        !part.includes("\u0000")
      )
        return part;
      break;
    case "instant": {
      const ms = typeof part === "string" ? Date.parse(part) : Number.NaN;
      if (!Number.isNaN(ms) && ms >= instant_ms_min && ms <= instant_ms_max) return new Date(ms);
      break;
    }
    case "smallint":
      if (typeof part === "number" && Number.isInteger(part) && part >= 0 && part <= smallint_max)
        return part;
      break;
    case "size":
      if (typeof part === "string" && log_size_pattern.test(part) && BigInt(part) <= log_size_max)
        return BigInt(part);
      break;
  }
  throw invalidCursor();
}

/**
 * The sort key a cursor of `list` carries, each part checked against its
 * column; a cursor of another list, or anything else, is `cursor_invalid`.
 */
export function decodeCursor<const S extends readonly CursorColumn[]>(
  list: CursorList,
  cursor: string,
  columns: S,
): { [K in keyof S]: Decoded<S[K]> } {
  if (cursor.length === 0 || cursor.length > cursor_length_max_chars || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw invalidCursor();
  let key: unknown;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    key = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(key) || key.length !== columns.length + 1 || key[0] !== list) throw invalidCursor();
  return columns.map((column, index) => decodedPart(column, key[index + 1])) as {
    [K in keyof S]: Decoded<S[K]>;
  };
}

/** `limit` checked against a list's named maximum; absent means the list's default. */
export function pageLimit(limit: number | undefined, default_items: number, max_items: number): number {
  const value = limit ?? default_items;
  if (!Number.isInteger(value) || value < 1 || value > max_items) {
    throw new DomainError("limit_invalid", `limit must be 1 to ${max_items}`, "limit");
  }
  return value;
}

/**
 * A page of `list` from `limit + 1` rows read past the cursor: the extra row
 * only says that another page exists, and the cursor is the key of the last
 * item kept.
 */
export function pageOf<Row, Item = Row>(
  rows: readonly Row[],
  limit: number,
  list: CursorList,
  keyOf: (row: Row) => readonly CursorPart[],
  itemOf: (row: Row) => Item = (row) => row as unknown as Item,
): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(itemOf),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(list, keyOf(last)) : null,
  };
}
