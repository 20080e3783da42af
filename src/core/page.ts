import { DomainError } from "./errors.ts";

// One pagination for every list (decisions §20): a caller passes `limit`
// (1 to the list's named maximum) and the opaque `cursor` of the previous page,
// and gets `{ items, next_cursor }`, where `next_cursor` is null on the last
// page. A cursor is the sort key of the last item returned, as a JSON array in
// base64url: opaque to callers, so its shape may change without a new version.

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** The longest cursor any list accepts: a few sort-key columns, base64url-encoded. */
export const cursor_length_max_chars = 512;

export type CursorPart = string | number;

export function encodeCursor(key: readonly CursorPart[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The sort key a cursor carries, checked against the shape the list expects
 * (`"string"` or `"number"` per column); anything else is `cursor_invalid`.
 */
export function decodeCursor<const S extends readonly ("string" | "number")[]>(
  cursor: string,
  shape: S,
): { [K in keyof S]: S[K] extends "number" ? number : string } {
  const invalid = new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
  if (cursor.length === 0 || cursor.length > cursor_length_max_chars || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw invalid;
  let key: unknown;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    key = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
  } catch {
    throw invalid;
  }
  if (!Array.isArray(key) || key.length !== shape.length) throw invalid;
  shape.forEach((type, index) => {
    const part = key[index];
    if (typeof part !== type || (type === "number" && !Number.isSafeInteger(part))) throw invalid;
  });
  return key as { [K in keyof S]: S[K] extends "number" ? number : string };
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
 * A page from `limit + 1` rows read past the cursor: the extra row only says
 * that another page exists, and the cursor is the key of the last item kept.
 */
export function pageOf<Row, Item = Row>(
  rows: readonly Row[],
  limit: number,
  keyOf: (row: Row) => readonly CursorPart[],
  itemOf: (row: Row) => Item = (row) => row as unknown as Item,
): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(itemOf),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
