import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScopeOf } from "../core/auth/scope.ts";
import type { ServiceContext } from "../service/context.ts";
import { sequenceEventsOnce } from "../service/events/event-sequencer.ts";
import { LogKeyStore } from "../service/tlog/signing-keys.ts";
import { sequenceAll } from "../service/tlog/testing.ts";
import { markersOf, type TenantFixture, tenantFixture } from "../testing/auth-fixtures.ts";
import { openTestDatabase, rls_single_node } from "../testing/db.ts";
import type { Database } from "./database.ts";
import { withReadScope } from "./scoped.ts";

let db: Database;
let ctx: ServiceContext;
let one: TenantFixture;
let two: TenantFixture;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  one = await tenantFixture(ctx);
  two = await tenantFixture(ctx);
  await sequenceEventsOnce(ctx);
  const keys = new LogKeyStore({ host: "scoped.test", secret: "scoped-test-secret" });
  for (const tenant of [one, two]) await sequenceAll(ctx, tenant.tenant_id, keys);
});
afterAll(async () => db.close());

// Deliberately unfiltered: no tenant, no party. Row-level security alone must confine them.
const unfiltered = {
  accounts: "SELECT tenant_id, id::text AS id, party_id FROM accounts",
  balances: "SELECT tenant_id, account_id::text AS id FROM balances",
  postings: "SELECT tenant_id, transaction_id::text AS id, account_id::text AS account FROM postings",
  journal_transactions: "SELECT tenant_id, id::text AS id, order_id FROM journal_transactions",
  log_records: "SELECT tenant_id, id::text AS id, party_ids FROM log_records",
  log_leaves:
    "SELECT tenant_id, leaf_index::text AS leaf_index, record_id::text AS id FROM log_leaves ORDER BY log_leaves.leaf_index",
  events: "SELECT tenant_id, id::text AS id, party_ids, payload FROM events",
  event_seqs: "SELECT tenant_id, seq::text AS seq, event_id::text AS id FROM event_seqs",
  orders: "SELECT tenant_id, id FROM orders",
  order_parties: "SELECT tenant_id, party_id FROM order_parties",
  security_events: "SELECT tenant_id, id::text AS id FROM security_events",
};

describe("row-level security under withReadScope", () => {
  it("confines every unfiltered read of a merchant to its own party in its own tenant", async ({ skip }) => {
    skip(db.sharded === true, rls_single_node);
    const scope = readScopeOf({
      tenant_id: one.tenant_id,
      role: "merchant",
      party_id: one.merchant_a.party_id,
      actor: "t",
    });
    const foreign = [...markersOf(one.merchant_b), two.tenant_id, ...markersOf(two.merchant_a)];
    for (const [table, sql] of Object.entries(unfiltered)) {
      const rows = await withReadScope(db, scope, (tx) => tx.query(sql));
      const text = JSON.stringify(rows);
      for (const marker of foreign) expect(text, `${table} leaks ${marker}`).not.toContain(marker);
      for (const row of rows) expect(row.tenant_id).toBe(one.tenant_id);
    }
    const own = await withReadScope(db, scope, (tx) => tx.query(unfiltered.events));
    expect(own).toHaveLength(1);
    const own_seqs = await withReadScope(db, scope, (tx) => tx.query(unfiltered.event_seqs));
    expect(own_seqs.map((row) => row.id)).toEqual(own.map((row) => row.id));
    const leaves = await withReadScope(db, scope, (tx) => tx.query(unfiltered.log_leaves));
    expect(leaves.map((row) => row.id)).toEqual(one.merchant_a.transaction_ids);
    const accounts = await withReadScope(db, scope, (tx) => tx.query(unfiltered.accounts));
    expect(accounts.map((row) => row.party_id)).toEqual([one.merchant_a.party_id]);
    const journal = await withReadScope(db, scope, (tx) => tx.query(unfiltered.journal_transactions));
    expect(journal.map((row) => row.id)).toEqual(one.merchant_a.transaction_ids);
    expect(await withReadScope(db, scope, (tx) => tx.query(unfiltered.security_events))).toEqual([]);
  });

  it("gives a platform scope every party of its tenant and nothing of another tenant", async ({ skip }) => {
    skip(db.sharded === true, rls_single_node);
    const scope = readScopeOf({ tenant_id: one.tenant_id, role: "auditor", party_id: null, actor: "t" });
    const accounts = await withReadScope(db, scope, (tx) => tx.query(unfiltered.accounts));
    const parties = new Set(accounts.map((row) => row.party_id));
    expect(parties).toContain(one.merchant_a.party_id);
    expect(parties).toContain(one.merchant_b.party_id);
    expect(JSON.stringify(accounts)).not.toContain(two.tenant_id);
    expect(await withReadScope(db, scope, (tx) => tx.query(unfiltered.events))).toHaveLength(2);
    expect(await withReadScope(db, scope, (tx) => tx.query(unfiltered.event_seqs))).toHaveLength(2);
    const leaves = await withReadScope(db, scope, (tx) => tx.query(unfiltered.log_leaves));
    expect(leaves.map((row) => row.id).sort()).toEqual(
      [...one.merchant_a.transaction_ids, ...one.merchant_b.transaction_ids].sort(),
    );
  });

  it("fails closed: without the settings the reader role sees no row, and it can neither write nor read credentials", async ({
    skip,
  }) => {
    skip(db.sharded === true, rls_single_node);
    const bare = await db.transaction(async (tx) => {
      await tx.query("SET LOCAL ROLE clearsplit_reader");
      return tx.query(unfiltered.accounts);
    });
    expect(bare).toEqual([]);
    const scope = readScopeOf({
      tenant_id: one.tenant_id,
      role: "platform_admin",
      party_id: null,
      actor: "t",
    });
    await expect(
      withReadScope(db, scope, (tx) => tx.query("UPDATE accounts SET status = 'closed'")),
    ).rejects.toThrow(/read-only/);
    await expect(withReadScope(db, scope, (tx) => tx.query("SELECT * FROM api_keys"))).rejects.toThrow(
      /permission denied/,
    );
    await expect(withReadScope(db, scope, (tx) => tx.query("SELECT * FROM sessions"))).rejects.toThrow(
      /permission denied/,
    );
  });

  it("refuses to build a party-less scope for a merchant", () => {
    expect(() =>
      readScopeOf({ tenant_id: one.tenant_id, role: "merchant", party_id: null, actor: "t" }),
    ).toThrow(/must carry its party/);
    const scope = readScopeOf({ tenant_id: one.tenant_id, role: "supplier", party_id: "s", actor: "t" });
    expect(Object.isFrozen(scope)).toBe(true);
  });
});
