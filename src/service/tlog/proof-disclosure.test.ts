import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock, turnTriggersOffLocally } from "../../testing/db.ts";
import { type ProofBundle, VerifyError, verifyBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { auditLog } from "./log-audit.ts";
import { proofBundle } from "./proofs.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, logFixture, sequenceAll } from "./testing.ts";

// Selective disclosure (issue 12): a journal record commits to each party's
// entries separately. A party's bundle opens only its own entries and proves
// them in the signed log; it carries nothing of another party's amounts. A
// full bundle opens every part. A bundle whose opened entries were changed is
// rejected, and `verify db` still names a changed amount.

let db: Database;
let ctx: ServiceContext;
const keys = new LogKeyStore({ host: "ledger.test", secret: "disclosure-test-secret" });
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock().now };
});
afterAll(async () => db.close());

describe("selective disclosure in proof bundles", () => {
  it("gives a party its own entries and the others' commitments only, and platform roles everything", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const [id] = await bookSales(ctx, f, [{ key: "a", merchant: "m1", amount_minor: 12_345n }]);
    await sequenceAll(ctx, tenant, keys);
    const vkey = (await logVkey(db, tenant))!;

    const party = await proofBundle(ctx, tenant, id!, { party_id: "m1" });
    const text = JSON.stringify(party);
    // The platform's fee (1234) and the PSP's clearing amount (12345) appear nowhere in m1's bundle.
    expect(text).not.toMatch(/1234[^0-9]|12345/);
    expect(text).not.toContain(f.fees.id);
    expect((party.record as { party_commitments: string[] }).party_commitments).toHaveLength(3);
    expect(party.record).not.toHaveProperty("entries");
    const checked = await verifyBundle(party, [vkey]);
    expect(checked.whole).toBe(false);
    expect(checked.disclosed).toEqual([
      { party_id: "m1", entries: [expect.objectContaining({ amount_minor: 11_111, account_id: f.m1.id })] },
    ]);

    const full = await proofBundle(ctx, tenant, id!, { party_id: null });
    const all = await verifyBundle(full, [vkey]);
    expect(all.whole).toBe(true);
    expect(all.disclosed.map((part) => part.party_id)).toEqual(["m1", "plat", "psp"]);
    expect(all.leafHash).toEqual(checked.leafHash);

    // Changed entries do not open the commitment; a bundle without parts proves nothing.
    const forged = structuredClone(party) as ProofBundle;
    (forged.disclosures![0]!.entries[0] as { amount_minor: number }).amount_minor = 11_112;
    await expect(verifyBundle(forged, [vkey])).rejects.toThrow(/do not match any commitment/);
    await expect(verifyBundle(forged, [vkey])).rejects.toBeInstanceOf(VerifyError);
    const stripped = { ...party, disclosures: [] };
    await expect(verifyBundle(stripped, [vkey])).rejects.toThrow(/disclosures must list/);
    const renamed = structuredClone(party) as ProofBundle;
    renamed.disclosures![0]!.party_id = "m2";
    await expect(verifyBundle(renamed, [vkey])).rejects.toThrow(/do not match any commitment/);

    // Out of band, an amount changes: verify db still names the record.
    expect(await auditLog(db, tenant)).toMatchObject({ clean: true });
    await db.transaction(async (tx) => {
      await turnTriggersOffLocally(tx);
      await tx.query(
        "UPDATE postings SET amount_minor = amount_minor + 1 WHERE tenant_id = $1 AND transaction_id = $2 AND account_id = $3",
        [tenant, id, f.m1.id],
      );
    });
    const audit = await auditLog(db, tenant);
    expect(audit.clean).toBe(false);
    expect(audit.findings.map((finding) => finding.record_id)).toContain(id);
  });
});
