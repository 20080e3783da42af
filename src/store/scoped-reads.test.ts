import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import self_referral_order from "../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import { type ReadScope, readScopeOf } from "../core/auth/scope.ts";
import type { ServiceContext } from "../service/context.ts";
import { bookOrders } from "../service/orders/book.ts";
import { getOrderDetail, listOrders } from "../service/orders/order-reads.ts";
import { partyBalances, partyEntries } from "../service/parties/party-reads.ts";
import { newTestTenant, openTestDatabase, rls_single_node } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import type { Database } from "./database.ts";
import { scopedQueryable, withReadScope } from "./scoped.ts";

// The order and party reads give the same answers under row-level security as
// with their own filters, so routes can pass the scoped handle as their `db`.

let db: Database;
let ctx: ServiceContext;
let tenant: string;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "rls");
  await seedExampleMarketplace(ctx, tenant);
  await bookOrders(ctx, tenant, [issue_order, self_referral_order]);
});
afterAll(async () => db.close());

async function reads(handle: Parameters<typeof listOrders>[0], scope: ReadScope, party: string) {
  return {
    orders: await listOrders(handle, scope, {}),
    balances: await partyBalances(handle, scope, party),
    entries: await partyEntries(handle, scope, party, {}),
  };
}

describe("service reads under withReadScope", () => {
  it("answer the same for a merchant, a supplier and the platform as their own filters do", async () => {
    const scopes: [ReadScope, string][] = [
      [readScopeOf({ tenant_id: tenant, role: "merchant", party_id: "m-2002", actor: "t" }), "m-2002"],
      [readScopeOf({ tenant_id: tenant, role: "supplier", party_id: "s-9", actor: "t" }), "s-9"],
      [readScopeOf({ tenant_id: tenant, role: "auditor", party_id: null, actor: "t" }), "m-1001"],
    ];
    for (const [scope, party] of scopes) {
      const direct = await reads(db, scope, party);
      const scoped = await withReadScope(db, scope, (tx) => reads(tx, scope, party));
      expect(scoped).toEqual(direct);
      expect(direct.orders.items.length).toBeGreaterThan(0);
    }
    const merchant = scopes[0]![0];
    const own = await getOrderDetail(scopedQueryable(db, merchant), merchant, self_referral_order.id);
    const plain = await getOrderDetail(db, merchant, self_referral_order.id);
    for (const key of Object.keys(plain)) expect((own as never)[key], key).toEqual((plain as never)[key]);
  });

  it("hide another merchant's order from a widened scope object once the database scope is the merchant's", async ({
    skip,
  }) => {
    skip(db.sharded === true, rls_single_node);
    const merchant = readScopeOf({ tenant_id: tenant, role: "merchant", party_id: "m-2002", actor: "t" });
    // A bug that passes a party-less scope to the service cannot widen what the database returns.
    const widened: ReadScope = { tenant_id: tenant, party_id: null };
    const orders = await withReadScope(db, merchant, (tx) => listOrders(tx, widened, {}));
    expect(orders.items.map((order) => order.id)).toEqual([self_referral_order.id]);
    await expect(
      withReadScope(db, merchant, (tx) => getOrderDetail(tx, widened, issue_order.id)),
    ).rejects.toThrow(/no order/);
  });
});
