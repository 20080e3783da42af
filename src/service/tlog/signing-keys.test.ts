import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { LogKeyStore } from "./signing-keys.ts";

// A tenant's log key is made once, sealed under CLEARSPLIT_SECRET, and opened
// by every later process with the same secret; never by another secret.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("log signing keys", () => {
  it("seal on first use and open in another process with the same secret", async () => {
    const ctx: ServiceContext = { db, now: testClock("2026-11-25T10:00:00Z").now };
    const tenant = await newTestTenant(ctx);
    const first = new LogKeyStore({ host: "ledger.test", secret: "keys-test-secret" });
    const second = new LogKeyStore({ host: "ledger.test", secret: "keys-test-secret" });
    // Both race on first use: one insert wins and both sign with its key.
    const [a, b] = await Promise.all([first.signer(db, tenant), second.signer(db, tenant)]);
    expect(a.vkey).toBe(b.vkey);
    const reopened = await new LogKeyStore({ host: "ledger.test", secret: "keys-test-secret" }).signer(
      db,
      tenant,
    );
    expect(reopened.vkey).toBe(a.vkey);
    const rows = await db.query<{ sealed: string }>(
      "SELECT encode(sealed_key, 'hex') AS sealed FROM log_keys WHERE tenant_id = $1",
      [tenant],
    );
    expect(rows).toHaveLength(1);
    // The private key is not stored in the clear.
    expect(rows[0]!.sealed).not.toContain(Buffer.from("PRIVATE").toString("hex"));
  });

  it("refuses another secret with a plain message", async () => {
    const ctx: ServiceContext = { db, now: testClock("2026-11-25T10:00:00Z").now };
    const tenant = await newTestTenant(ctx);
    await new LogKeyStore({ host: "ledger.test", secret: "right-secret" }).signer(db, tenant);
    await expect(
      new LogKeyStore({ host: "ledger.test", secret: "wrong-secret" }).signer(db, tenant),
    ).rejects.toThrow(/CLEARSPLIT_SECRET is not the one that sealed it/);
  });
});
