import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import type { Database } from "../../store/database.ts";
import { openTestDatabase } from "../../testing/db.ts";
import { recordSecurityEvent, security_actions } from "./security-events.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("security events", () => {
  // Two migrations once each replaced the table's action CHECK with their own
  // list, and the later one silently dropped the other's action: re-enabling
  // a user then answered 500. Every action the code can write must be storable.
  it("stores every action the code declares, and the table refuses one it does not", async () => {
    const tenant_id = `sec-${newId().slice(-12)}`;
    for (const action of security_actions)
      await recordSecurityEvent(
        db,
        { tenant_id, actor: "test", ip: null, action, outcome: "success", subject: null },
        new Date(),
      );
    const rows = await db.query<{ action: string }>(
      "SELECT action FROM security_events WHERE tenant_id = $1",
      [tenant_id],
    );
    expect(rows.map((row) => row.action).sort()).toEqual([...security_actions].sort());
    await expect(
      db.query(
        `INSERT INTO security_events (tenant_id, id, occurred_at, actor, action, outcome)
         VALUES ($1, $2, now(), 'test', 'not_an_action', 'success')`,
        [tenant_id, newId()],
      ),
    ).rejects.toThrow();
  });
});
