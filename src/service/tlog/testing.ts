import type { Account, TransactionRequest } from "../../core/ledger/types.ts";
import { countRecordsWithoutLeaf } from "../../store/log-leaves-sql.ts";
import { latestCheckpointSize } from "../../store/log-tree-sql.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "../ledger/accounts.ts";
import { postTransactions } from "../ledger/post.ts";
import { type SequenceOptions, type SequenceResult, sequenceOnce } from "./log-sequencer.ts";
import type { LogKeyStore } from "./signing-keys.ts";

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

/**
 * Records of a tenant without a leaf. A full anti-join, not the sequencer's
 * cursor: a record the cursor skipped must keep a test waiting, then failing.
 */
/**
 * Sequences until nothing committed is left. pg_snapshot_xmin is server-wide,
 * so an open transaction in another database (another test suite) can hold a
 * round back for a moment: retry rather than assume one round takes everything.
 */
export async function sequenceAll(
  ctx: ServiceContext,
  tenant_id: string,
  keys: LogKeyStore,
  wait_ms_max = 20_000,
): Promise<bigint> {
  const deadline = Date.now() + wait_ms_max;
  for (;;) {
    const result = await sequenceOnce(ctx, tenant_id, { keys });
    const waiting = await countRecordsWithoutLeaf(ctx.db, tenant_id);
    if (waiting === 0n && result.status !== "busy") return latestCheckpointSize(ctx.db, tenant_id);
    if (Date.now() > deadline)
      throw new Error(`records of ${tenant_id} still unsequenced after ${wait_ms_max} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One round that must take exactly `expected` records, retried while other databases hold xmin back. */
export async function sequenceExpecting(
  ctx: ServiceContext,
  tenant_id: string,
  keys: LogKeyStore,
  expected: number,
  options: Omit<SequenceOptions, "keys"> = {},
  wait_ms_max = 20_000,
): Promise<SequenceResult> {
  const deadline = Date.now() + wait_ms_max;
  for (;;) {
    const result = await sequenceOnce(ctx, tenant_id, { ...options, keys });
    if (result.status === "checkpointed" && result.appended > 0) {
      if (result.appended !== expected)
        throw new Error(`round took ${result.appended}, expected ${expected}`);
      return result;
    }
    if (Date.now() > deadline) throw new Error(`no round took ${expected} records within ${wait_ms_max} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
