import type { Account, TransactionRequest } from "../../core/ledger/types.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "../ledger/accounts.ts";
import { postTransactions } from "../ledger/post.ts";

// Test support for the log: a tenant with two merchants and helpers to book
// small split transactions that concern one merchant each.

export interface LogFixture {
  tenant: string;
  clearing: Account;
  m1: Account;
  m2: Account;
  fees: Account;
}

/** Parties and accounts in one currency; a second call with another currency shares the parties, not the accounts. */
export async function logFixture(ctx: ServiceContext, tenant: string, currency = "EUR"): Promise<LogFixture> {
  await createParty(ctx, tenant, { id: "psp", kind: "psp", name: "PSP" });
  await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "Merchant 1" });
  await createParty(ctx, tenant, { id: "m2", kind: "merchant", name: "Merchant 2" });
  await createParty(ctx, tenant, { id: "plat", kind: "platform", name: "Platform" });
  return {
    tenant,
    clearing: await openAccount(ctx, tenant, { party_id: "psp", purpose: "clearing", currency }),
    m1: await openAccount(ctx, tenant, { party_id: "m1", purpose: "available", currency }),
    m2: await openAccount(ctx, tenant, { party_id: "m2", purpose: "available", currency }),
    fees: await openAccount(ctx, tenant, { party_id: "plat", purpose: "revenue", currency }),
  };
}

export function saleRequest(
  f: LogFixture,
  key: string,
  merchant: "m1" | "m2",
  amount_minor: bigint,
): TransactionRequest {
  const fee = amount_minor / 10n;
  const currency = f.clearing.currency;
  return {
    idempotency_key: key,
    kind: "sale",
    memo: `sale ${key}`,
    entries: [
      { account_id: f.clearing.id, side: "debit", amount_minor, currency },
      { account_id: f[merchant].id, side: "credit", amount_minor: amount_minor - fee, currency },
      { account_id: f.fees.id, side: "credit", amount_minor: fee, currency },
    ],
  };
}

/** Books sales and returns their transaction ids in booking order. */
export async function bookSales(
  ctx: ServiceContext,
  f: LogFixture,
  sales: readonly { key: string; merchant: "m1" | "m2"; amount_minor: bigint }[],
): Promise<string[]> {
  const results = await postTransactions(
    ctx,
    f.tenant,
    sales.map((sale) => saleRequest(f, sale.key, sale.merchant, sale.amount_minor)),
  );
  return results.map((result) => {
    if (result.status === "rejected") throw result.error;
    if (result.status !== "created") throw new Error(`sale not created: ${result.status}`);
    return result.transaction.id;
  });
}
