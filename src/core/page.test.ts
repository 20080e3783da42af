import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, pageOf } from "./page.ts";

describe("the one cursor encoding", () => {
  it("gives back the key it was made from, each part as its column's type", () => {
    const at = new Date("2026-03-04T05:06:07.089Z");
    const cursor = encodeCursor("party_entries", ["0190a000-0000-7000-8000-000000000001", 7]);
    expect(decodeCursor("party_entries", cursor, ["uuid", "smallint"])).toEqual([
      "0190a000-0000-7000-8000-000000000001",
      7,
    ]);
    const [instant, id] = decodeCursor("orders", encodeCursor("orders", [at, "o-1"]), ["instant", "id"]);
    expect(instant).toEqual(at);
    expect(id).toBe("o-1");
    expect(decodeCursor("checkpoints", encodeCursor("checkpoints", [2n ** 63n - 1n]), ["size"])).toEqual([
      2n ** 63n - 1n,
    ]);
    expect(encodeCursor("orders", [at, "o-1"])).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("refuses a cursor of another list, and a size beyond int8", () => {
    const cursor = encodeCursor("users", [
      "2026-01-01T00:00:00.000Z",
      "0190a000-0000-7000-8000-000000000001",
    ]);
    expect(() => decodeCursor("assignments", cursor, ["instant", "uuid"])).toThrow(
      expect.objectContaining({ code: "cursor_invalid" }),
    );
    expect(() => decodeCursor("checkpoints", encodeCursor("checkpoints", [2n ** 63n]), ["size"])).toThrow(
      expect.objectContaining({ code: "cursor_invalid" }),
    );
  });

  it("hands out a cursor only when a row beyond the page exists", () => {
    const rows = [{ id: "a" }, { id: "b" }, { id: "c" }];
    expect(pageOf(rows, 3, "parties", (row) => [row.id]).next_cursor).toBeNull();
    const page = pageOf(rows, 2, "parties", (row) => [row.id]);
    expect(page.items).toEqual([{ id: "a" }, { id: "b" }]);
    expect(decodeCursor("parties", page.next_cursor!, ["id"])).toEqual(["b"]);
  });
});
