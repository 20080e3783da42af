import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import type { TransactionRequest } from "../../core/ledger/types.ts";
import { canonicalJsonSha256Hex } from "../../core/sha256.ts";
import {
  type AllocationJson,
  allocationFromJson,
  type Policy,
  parseOrder,
  parseRefund,
  type Refund,
  type ReversalJson,
  reversalToJson,
  reverse,
} from "../../core/split/index.ts";
import { isSubsidyLeg, subsidyOf } from "../../core/split/subsidy.ts";
import type { Queryable } from "../../store/database.ts";
import { lockBalances } from "../../store/ledger-sql.ts";
import { insertOrderRefund, type StoredRefund, selectRefunds } from "../../store/order-refunds-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { allocationsFor } from "./allocation.ts";
import { heldByOrder, shareByParty } from "./held.ts";
import { bookedPolicy, lockOrder } from "./order-lookups.ts";
import { accountFor, partyAccounts, partyKinds } from "./party-accounts.ts";
import type { OrderRow, OrderView, RefundView } from "./view.ts";
import { viewOf } from "./view.ts";

export type RefundKind = "refund" | "chargeback";

/**
 * Gives money back to the buyer and takes each party's share of it back, in
 * proportion to the split. Before release it comes out of held; after release
 * out of available, and what available cannot cover becomes the party's debt.
 */
export function refundOrder(
  ctx: ServiceContext,
  tenant_id: string,
  order_id: string,
  body: unknown,
  kind: RefundKind,
): Promise<{ replayed: boolean; order: OrderView; refund: RefundView }> {
  const refund = parseRefund(body);
  const request_sha256 = canonicalJsonSha256Hex({ kind, body });
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockOrder(tx, tenant_id, order_id);
    const allocation = (await allocationsFor(tx, tenant_id, [row]))(row);
    const previous = (await selectRefunds(tx, tenant_id, [order_id])).get(order_id) ?? [];
    const same = previous.find((r) => r.refund_id === refund.refund_id);
    if (same !== undefined) {
      if (same.request_sha256 !== request_sha256) {
        throw new DomainError(
          "refund_conflict",
          `refund ${JSON.stringify(refund.refund_id)} exists with different content`,
          "refund_id",
        );
      }
      // A replay answers what the first request answered: the view, not the stored request.
      const { request: _request, request_sha256: _sha256, ...view } = same;
      return { replayed: true, order: viewOf(row, allocation, null), refund: view };
    }
    const now = ctx.now();
    const policy = await bookedPolicy(tx, tenant_id, row.policy_hash);
    const reversal = reversalOf(row, allocation, previous, refund, policy);
    const before_release = row.released_at === null;
    const transaction_id = await bookReversal(
      tx,
      tenant_id,
      row,
      reversal,
      kind,
      before_release,
      policy.parties.platform,
      now,
    );
    const refunded_minor = row.refunded_minor + BigInt(reversal.refund_minor);
    await insertOrderRefund(
      tx,
      tenant_id,
      {
        order_id,
        merchant_id: row.merchant_id,
        refund_id: refund.refund_id,
        kind,
        amount_minor: reversal.refund_minor,
        request_json: JSON.stringify(body),
        request_sha256,
        reversal_json: JSON.stringify(reversal),
        transaction_id,
        before_release,
        created_at: now,
      },
      refunded_minor,
    );
    const parties = [...shareByParty(reversal.legs).keys()].sort();
    await enqueueEvents(
      tx,
      tenant_id,
      [
        {
          type: kind === "refund" ? "order.refunded" : "order.charged_back",
          party_ids: parties,
          payload: {
            order_id,
            refund_id: refund.refund_id,
            currency: row.currency,
            amount_minor: reversal.refund_minor,
            before_release,
          },
        },
      ],
      now,
    );
    const view: RefundView = {
      refund_id: refund.refund_id,
      kind,
      amount_minor: BigInt(reversal.refund_minor),
      before_release,
      transaction_id,
      created_at: now,
      reversal,
    };
    return { replayed: false, order: viewOf({ ...row, refunded_minor }, allocation, null), refund: view };
  });
}

function reversalOf(
  row: OrderRow,
  allocation: AllocationJson,
  previous: readonly StoredRefund[],
  refund: Refund,
  policy: Policy,
): ReversalJson {
  const order = parseOrder(row.facts, "stored");
  const prior = previous.map((r) => parseRefund(r.request, "stored"));
  return reversalToJson(reverse(policy, order, allocationFromJson(allocation), prior, refund));
}

async function bookReversal(
  tx: Queryable,
  tenant_id: string,
  row: OrderRow,
  reversal: ReversalJson,
  kind: RefundKind,
  before_release: boolean,
  platform: string,
  now: Date,
): Promise<string> {
  const take = shareByParty(reversal.legs.filter((leg) => !isSubsidyLeg(leg)));
  // The subsidy's part of the refund goes back to the platform's expense account.
  const subsidy_back_minor = subsidyOf(
    reversal.legs.map((leg) => ({ ...leg, amount_minor: BigInt(leg.amount_minor) })),
  );
  const kinds = await partyKinds(tx, tenant_id, [platform, ...take.keys()]);
  const held = before_release
    ? (await heldByOrder(tx, tenant_id, [row.id])).get(row.id)!
    : new Map<string, bigint>();
  const specs = [
    { party_id: platform, purpose: "clearing" as const, currency: row.currency },
    { party_id: platform, purpose: "expense" as const, currency: row.currency },
    ...[...take.keys()].flatMap((party_id) =>
      (["held", "available", "debt"] as const).map((purpose) => ({
        party_id,
        purpose,
        currency: row.currency,
      })),
    ),
  ];
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const account = (party_id: string, purpose: "held" | "available" | "debt" | "clearing" | "expense") =>
    accountFor(accounts, { party_id, purpose, currency: row.currency }).id;
  const available = await lockedAvailable(
    tx,
    tenant_id,
    [...take.keys()].map((party_id) =>
      accountFor(accounts, { party_id, purpose: "available", currency: row.currency }),
    ),
  );
  const entries: TransactionRequest["entries"] = [];
  const debit = (account_id: string, amount_minor: bigint, covered = false) => {
    if (amount_minor > 0n)
      entries.push({
        account_id,
        side: "debit",
        amount_minor,
        currency: row.currency,
        ...(covered ? { covered: true as const } : {}),
      });
  };
  for (const [party_id, amount_minor] of [...take].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Held first, up to what this order still holds for the party (a retained
    // PSP fee can make a share of the refund larger); then available; the rest is debt.
    const from_held = minBigint(amount_minor, maxBigint(held.get(party_id) ?? 0n, 0n));
    const from_available = minBigint(
      amount_minor - from_held,
      maxBigint(available.get(account(party_id, "available")) ?? 0n, 0n),
    );
    // At most what this order still holds for the party (journal, under the order's row lock).
    debit(account(party_id, "held"), from_held, true);
    debit(account(party_id, "available"), from_available);
    debit(account(party_id, "debt"), amount_minor - from_held - from_available);
  }
  entries.push({
    account_id: account(platform, "clearing"),
    side: "credit",
    amount_minor: BigInt(reversal.refund_minor),
    currency: row.currency,
  });
  if (subsidy_back_minor > 0n)
    entries.push({
      account_id: account(platform, "expense"),
      side: "credit",
      amount_minor: subsidy_back_minor,
      currency: row.currency,
    });
  const [result] = await writeJournalBatch(
    tx,
    tenant_id,
    [
      {
        idempotency_key: `order:${row.id}:${kind}:${reversal.refund_id}`,
        kind: kind === "refund" ? "refund_reversal" : "chargeback_reversal",
        order_id: row.id,
        policy_hash: row.policy_hash,
        entries,
      },
    ],
    now,
  );
  assert(result !== undefined, "no result for the reversal");
  if (result.status === "rejected") throw result.error;
  return result.transaction.id;
}

async function lockedAvailable(
  tx: Queryable,
  tenant_id: string,
  accounts: readonly { id: string; bucket_count: number }[],
): Promise<Map<string, bigint>> {
  const keys = accounts.flatMap((account) =>
    Array.from({ length: account.bucket_count }, (_, bucket) => ({ account_id: account.id, bucket })),
  );
  const rows = await lockBalances(tx, tenant_id, keys);
  const available = new Map<string, bigint>();
  for (const row of rows)
    available.set(
      row.account_id,
      (available.get(row.account_id) ?? 0n) + row.posted_minor - row.pending_out_minor,
    );
  return available;
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
