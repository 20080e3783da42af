import { DomainError } from "./errors.ts";

// Opaque page cursors. A cursor comes back from the client, so decoding it is
// input validation: every part must fit the column it is compared with
// (a uuid, a smallint, a timestamp, an id) or the query would fail in the
// database instead of answering 400.

const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const smallint_max = 32_767;
const cursor_id_length_max = 128;
// Instants PostgreSQL and toISOString agree on (four-digit years).
const instant_ms_min = Date.parse("0001-01-01T00:00:00Z");
const instant_ms_max = Date.parse("9999-12-31T23:59:59.999Z");

export function invalidCursor(): DomainError {
  return new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
}

/** A (transaction id, posting seq) position, as ledger entry pages hand out. */
export function encodeEntryCursor(transaction_id: string, seq: number): string {
  return Buffer.from(`${transaction_id}:${seq}`).toString("base64url");
}

export function decodeEntryCursor(cursor: string): { transaction_id: string; seq: number } {
  const text = Buffer.from(cursor, "base64url").toString();
  const colon = text.lastIndexOf(":");
  const transaction_id = text.slice(0, colon);
  const seq_text = text.slice(colon + 1);
  if (colon < 0 || !uuid_pattern.test(transaction_id) || !/^[0-9]{1,5}$/.test(seq_text))
    throw invalidCursor();
  const seq = Number(seq_text);
  if (seq > smallint_max) throw invalidCursor();
  return { transaction_id, seq };
}

/** A text id as a cursor part: bounded, no NUL. */
export function checkedCursorId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > cursor_id_length_max || id.includes("\u0000"))
    throw invalidCursor();
  return id;
}

/** An instant as a cursor part: a real date in the range PostgreSQL stores. */
export function checkedCursorInstant(value: unknown): Date {
  if (typeof value !== "string") throw invalidCursor();
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || ms < instant_ms_min || ms > instant_ms_max) throw invalidCursor();
  return new Date(ms);
}
