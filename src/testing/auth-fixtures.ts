import { type Role, roles } from "../core/auth/roles.ts";
import { newId } from "../core/ids.ts";
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import { enqueueEvents } from "../service/events/event-enqueue.ts";
import { createParty, openAccount } from "../service/ledger/accounts.ts";
import { postTransaction } from "../service/ledger/post.ts";
import { inTransaction } from "../store/retry.ts";
import { newTestTenant } from "./db.ts";

// Two merchants and a supplier with money and events in one tenant, plus a
// second tenant: the data the isolation tests look for in every response.

export interface PartyData {
  party_id: string;
  account_ids: string[];
  transaction_ids: string[];
  order_ids: string[];
}

export interface TenantFixture {
  tenant_id: string;
  platform_id: string;
  merchant_a: PartyData;
  merchant_b: PartyData;
  supplier_a: PartyData;
  /** One API key per role; merchant keys belong to merchant A, supplier keys to supplier A. */
  keys: Record<Role, string>;
}

function unique(prefix: string): string {
  return `${prefix}-${newId().replaceAll("-", "").slice(-12)}`;
}

async function partyWithAccounts(ctx: ServiceContext, tenant_id: string, kind: "merchant" | "supplier") {
  const party_id = unique(kind === "merchant" ? "merch" : "supp");
  await createParty(ctx, tenant_id, { id: party_id, kind, name: `${kind} ${party_id}` });
  const held = await openAccount(ctx, tenant_id, { party_id, purpose: "held", currency: "CNY" });
  return { party_id, account_ids: [held.id], transaction_ids: [], order_ids: [] } as PartyData;
}

/** Books an "order" for a merchant (and optionally a supplier) through the ledger, with its events. */
export async function bookFixtureOrder(
  ctx: ServiceContext,
  tenant_id: string,
  clearing_id: string,
  merchant: PartyData,
  supplier?: PartyData,
): Promise<string> {
  const order_id = unique("order");
  const entries = [
    { account_id: clearing_id, side: "debit" as const, amount_minor: 10_000n, currency: "CNY" },
    {
      account_id: merchant.account_ids[0]!,
      side: "credit" as const,
      amount_minor: supplier ? 7_000n : 10_000n,
      currency: "CNY",
    },
  ];
  if (supplier)
    entries.push({
      account_id: supplier.account_ids[0]!,
      side: "credit",
      amount_minor: 3_000n,
      currency: "CNY",
    });
  const { transaction } = await postTransaction(ctx, tenant_id, {
    idempotency_key: order_id,
    kind: "split",
    order_id,
    entries,
  });
  const parties = supplier ? [merchant.party_id, supplier.party_id] : [merchant.party_id];
  await inTransaction(ctx.db, (tx) =>
    enqueueEvents(
      tx,
      tenant_id,
      [{ type: "order.booked", party_ids: parties, payload: { order_id, merchant_id: merchant.party_id } }],
      ctx.now(),
    ),
  );
  for (const party of supplier ? [merchant, supplier] : [merchant]) {
    party.transaction_ids.push(transaction.id);
    party.order_ids.push(order_id);
  }
  return order_id;
}

export async function tenantFixture(ctx: ServiceContext): Promise<TenantFixture> {
  const tenant_id = await newTestTenant(ctx, "iso");
  const platform_id = unique("platform");
  await createParty(ctx, tenant_id, { id: platform_id, kind: "platform", name: "the mall" });
  const clearing = await openAccount(ctx, tenant_id, {
    party_id: platform_id,
    purpose: "clearing",
    currency: "CNY",
  });
  const merchant_a = await partyWithAccounts(ctx, tenant_id, "merchant");
  const merchant_b = await partyWithAccounts(ctx, tenant_id, "merchant");
  const supplier_a = await partyWithAccounts(ctx, tenant_id, "supplier");
  await bookFixtureOrder(ctx, tenant_id, clearing.id, merchant_a, supplier_a);
  await bookFixtureOrder(ctx, tenant_id, clearing.id, merchant_b);
  const keys = {} as Record<Role, string>;
  for (const role of roles) {
    // The generic party role is bound to supplier A too: it must see exactly what supplier A sees.
    const party_id =
      role === "merchant"
        ? merchant_a.party_id
        : role === "supplier" || role === "party"
          ? supplier_a.party_id
          : null;
    keys[role] = (await createApiKey(ctx, tenant_id, { name: `${role} key`, role, party_id })).key;
  }
  return { tenant_id, platform_id, merchant_a, merchant_b, supplier_a, keys };
}

/** Strings that identify a party's data: its id, its orders, its transactions, its accounts. */
export function markersOf(party: PartyData): string[] {
  return [party.party_id, ...party.order_ids, ...party.transaction_ids, ...party.account_ids];
}
