import { createHash } from "node:crypto";
import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { canonicalJson } from "../../core/jcs.ts";
import type { TransactionRequest } from "../../core/ledger/types.ts";
import {
  allocationFromJson,
  loadPolicy,
  parseOrder,
  parseRefund,
  type Refund,
  type ReversalJson,
  reversalToJson,
  reverse,
} from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { lockBalances } from "../../store/ledger-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/enqueue.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { heldByOrder, shareByParty } from "./held.ts";
import { accountFor, partyAccounts, partyKinds } from "./party-accounts.ts";
import {
  type OrderRow,
  type OrderView,
  order_columns,
  orderColumns,
  type RefundView,
  viewOf,
} from "./view.ts";

export const releases_per_batch_max = 500;

/** The buyer confirmed receipt: the policy's return window starts now. Completing twice changes nothing. */
export async function completeOrder(
  ctx: ServiceContext,
  tenant_id: string,
  order_id: string,
): Promise<OrderView> {
  const [view] = await completeOrders(ctx, tenant_id, [order_id]);
  assert(view !== undefined, "completeOrders returned nothing");
  return view;
}

export const completions_per_batch_max = 1_000;

/** Completes many orders in one transaction; every id must exist. */
export function completeOrders(
  ctx: ServiceContext,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<OrderView[]> {
  assert(
    order_ids.length <= completions_per_batch_max,
    `complete at most ${completions_per_batch_max} orders at once`,
  );
  return inTransaction(ctx.db, async (tx) => {
    const rows = await tx.query<OrderRow & { return_window_ms: bigint } & Record<string, unknown>>(
      `SELECT ${orderColumns("o")}, p.return_window_ms
         FROM orders o JOIN policies p ON p.tenant_id = o.tenant_id AND p.hash = o.policy_hash
        WHERE o.tenant_id = $1 AND o.id = ANY($2::text[]) ORDER BY o.id FOR UPDATE OF o`,
      [tenant_id, order_ids],
    );
    const by_id = new Map(rows.map((row) => [row.id, row]));
    const missing = order_ids.find((id) => !by_id.has(id));
    if (missing !== undefined)
      throw new DomainError("order_not_found", `no order ${JSON.stringify(missing)}`, "id");
    const now = ctx.now();
    const due = rows.filter((row) => row.completed_at === null && row.released_at === null);
    const releasable = due.map((row) => new Date(now.getTime() + Number(row.return_window_ms)));
    if (due.length > 0) {
      await tx.query(
        `UPDATE orders o SET completed_at = $2, releasable_at = c.releasable_at
           FROM unnest($3::text[], $4::timestamptz[]) AS c(id, releasable_at)
          WHERE o.tenant_id = $1 AND o.id = c.id`,
        [tenant_id, now, due.map((row) => row.id), releasable],
      );
      await enqueueEvents(
        tx,
        tenant_id,
        due.map((row, i) => orderEvent("order.completed", row, { releasable_at: releasable[i] })),
        now,
      );
    }
    const updated = new Map(
      due.map((row, i) => [row.id, { ...row, completed_at: now, releasable_at: releasable[i]! }]),
    );
    return order_ids.map((id) => viewOf(updated.get(id) ?? by_id.get(id)!, null));
  });
}

/** Moves an order's held shares to available now, whatever its window (finance's override). */
export function releaseOrder(ctx: ServiceContext, tenant_id: string, order_id: string): Promise<OrderView> {
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockOrder(tx, tenant_id, order_id);
    if (row.released_at !== null) return viewOf(row, null);
    const [released] = await releaseRows(tx, tenant_id, [row], ctx.now());
    return viewOf(released!, null);
  });
}

// Advisory-lock namespace for the release leader (the second key is the tenant's hash).
const release_lock_class = 7_002;

/**
 * Releases orders whose return window has ended. With `leader_only`, a round
 * runs only in the process holding the tenant's release lock for that
 * transaction; either way `SKIP LOCKED` and the journal's idempotency keys
 * make concurrent runs release each order once.
 */
export function releaseDue(
  ctx: ServiceContext,
  tenant_id: string,
  limit = releases_per_batch_max,
  options: { leader_only?: boolean } = {},
): Promise<number> {
  assert(
    limit >= 1 && limit <= releases_per_batch_max,
    `release batches hold 1 to ${releases_per_batch_max} orders`,
  );
  return inTransaction(ctx.db, async (tx) => {
    if (options.leader_only) {
      const [lock] = await tx.query<{ leader: boolean }>(
        "SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS leader",
        [release_lock_class, tenant_id],
      );
      if (!lock?.leader) return 0;
    }
    const now = ctx.now();
    const due = await tx.query<OrderRow & Record<string, unknown>>(
      `SELECT ${order_columns} FROM orders
        WHERE tenant_id = $1 AND released_at IS NULL AND releasable_at <= $2
        ORDER BY releasable_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [tenant_id, now, limit],
    );
    if (due.length > 0) await releaseRows(tx, tenant_id, due, now);
    return due.length;
  });
}

async function releaseRows(
  tx: Queryable,
  tenant_id: string,
  rows: readonly OrderRow[],
  now: Date,
): Promise<OrderRow[]> {
  const held = await heldByOrder(
    tx,
    tenant_id,
    rows.map((row) => row.id),
  );
  const held_by_order = rows.map((row) => held.get(row.id)!);
  const kinds = await partyKinds(
    tx,
    tenant_id,
    held_by_order.flatMap((shares) => [...shares.keys()]),
  );
  const specs = rows.flatMap((row, i) =>
    [...held_by_order[i]!.keys()].flatMap((party_id) => [
      { party_id, purpose: "held" as const, currency: row.currency },
      { party_id, purpose: "available" as const, currency: row.currency },
    ]),
  );
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const requests: TransactionRequest[] = [];
  const request_of = new Map<string, number>();
  rows.forEach((row, i) => {
    const account = (party_id: string, purpose: "held" | "available") =>
      accountFor(accounts, { party_id, purpose, currency: row.currency }).id;
    const entries = [...held_by_order[i]!]
      .filter(([, amount_minor]) => amount_minor > 0n)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([party_id, amount_minor]) => [
        {
          account_id: account(party_id, "held"),
          side: "debit" as const,
          amount_minor,
          currency: row.currency,
        },
        {
          account_id: account(party_id, "available"),
          side: "credit" as const,
          amount_minor,
          currency: row.currency,
        },
      ]);
    if (entries.length === 0) return; // Fully refunded before release: nothing left to move.
    request_of.set(row.id, requests.length);
    requests.push({ idempotency_key: `order:${row.id}:release`, kind: "release", order_id: row.id, entries });
  });
  const results = await writeJournalBatch(tx, tenant_id, requests, now);
  for (const result of results) if (result.status === "rejected") throw result.error;
  const transaction_ids = rows.map((row) => {
    const position = request_of.get(row.id);
    const result = position === undefined ? undefined : results[position];
    return result === undefined || result.status === "rejected" ? null : result.transaction.id;
  });
  await tx.query(
    `UPDATE orders o SET released_at = $2, release_transaction_id = r.transaction_id
       FROM unnest($3::text[], $4::uuid[]) AS r(id, transaction_id)
      WHERE o.tenant_id = $1 AND o.id = r.id`,
    [tenant_id, now, rows.map((row) => row.id), transaction_ids],
  );
  await enqueueEvents(
    tx,
    tenant_id,
    rows.map((row) => orderEvent("order.released", row, {})),
    now,
  );
  return rows.map((row, i) => ({
    ...row,
    released_at: now,
    release_transaction_id: transaction_ids[i] ?? null,
  }));
}

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
  const request_sha256 = createHash("sha256").update(canonicalJson({ kind, body })).digest("hex");
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockOrder(tx, tenant_id, order_id);
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
      return { replayed: true, order: viewOf(row, null), refund: same };
    }
    const now = ctx.now();
    const reversal = reversalOf(row, previous, refund, await policyBody(tx, tenant_id, row.policy_hash));
    const before_release = row.released_at === null;
    const transaction_id = await bookReversal(tx, tenant_id, row, reversal, kind, before_release, now);
    const refunded_minor = row.refunded_minor + BigInt(reversal.refund_minor);
    await tx.query("UPDATE orders SET refunded_minor = $3 WHERE tenant_id = $1 AND id = $2", [
      tenant_id,
      order_id,
      refunded_minor,
    ]);
    await tx.query(
      `INSERT INTO order_refunds (tenant_id, order_id, refund_id, kind, amount_minor, request, request_sha256, reversal,
                                  transaction_id, before_release, created_at)
       VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10, $11)`,
      [
        tenant_id,
        order_id,
        refund.refund_id,
        kind,
        reversal.refund_minor,
        JSON.stringify(body),
        request_sha256,
        JSON.stringify(reversal),
        transaction_id,
        before_release,
        now,
      ],
    );
    const parties = [...shareByParty(reversal.legs).keys()].sort();
    await enqueueEvents(
      tx,
      tenant_id,
      [
        {
          type: `order.${kind === "refund" ? "refunded" : "charged_back"}`,
          party_ids: parties,
          payload: {
            order_id,
            refund_id: refund.refund_id,
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
    return { replayed: false, order: viewOf({ ...row, refunded_minor }, null), refund: view };
  });
}

function reversalOf(
  row: OrderRow,
  previous: readonly StoredRefund[],
  refund: Refund,
  policy_body: unknown,
): ReversalJson {
  const { policy } = loadPolicy(policy_body);
  const order = parseOrder(row.facts);
  const prior = previous.map((r) => parseRefund(r.request));
  return reversalToJson(reverse(policy, order, allocationFromJson(row.allocation), prior, refund));
}

async function bookReversal(
  tx: Queryable,
  tenant_id: string,
  row: OrderRow,
  reversal: ReversalJson,
  kind: RefundKind,
  before_release: boolean,
  now: Date,
): Promise<string> {
  const take = shareByParty(reversal.legs);
  const platform = await platformOf(tx, tenant_id, row.policy_hash);
  const kinds = await partyKinds(tx, tenant_id, [platform, ...take.keys()]);
  const held = before_release
    ? (await heldByOrder(tx, tenant_id, [row.id])).get(row.id)!
    : new Map<string, bigint>();
  const specs = [
    { party_id: platform, purpose: "clearing" as const, currency: row.currency },
    ...[...take.keys()].flatMap((party_id) =>
      (["held", "available", "debt"] as const).map((purpose) => ({
        party_id,
        purpose,
        currency: row.currency,
      })),
    ),
  ];
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  const account = (party_id: string, purpose: "held" | "available" | "debt" | "clearing") =>
    accountFor(accounts, { party_id, purpose, currency: row.currency }).id;
  const available = await lockedAvailable(
    tx,
    tenant_id,
    [...take.keys()].map((party_id) =>
      accountFor(accounts, { party_id, purpose: "available", currency: row.currency }),
    ),
  );
  const entries: TransactionRequest["entries"] = [];
  const debit = (account_id: string, amount_minor: bigint) => {
    if (amount_minor > 0n) entries.push({ account_id, side: "debit", amount_minor, currency: row.currency });
  };
  for (const [party_id, amount_minor] of [...take].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Held first, up to what this order still holds for the party (a retained
    // PSP fee can make a share of the refund larger); then available; the rest is debt.
    const from_held = minBigint(amount_minor, maxBigint(held.get(party_id) ?? 0n, 0n));
    const from_available = minBigint(
      amount_minor - from_held,
      maxBigint(available.get(account(party_id, "available")) ?? 0n, 0n),
    );
    debit(account(party_id, "held"), from_held);
    debit(account(party_id, "available"), from_available);
    debit(account(party_id, "debt"), amount_minor - from_held - from_available);
  }
  entries.push({
    account_id: account(platform, "clearing"),
    side: "credit",
    amount_minor: BigInt(reversal.refund_minor),
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

async function policyBody(tx: Queryable, tenant_id: string, hash: string): Promise<unknown> {
  const [row] = await tx.query<{ body: unknown }>(
    "SELECT body FROM policies WHERE tenant_id = $1 AND hash = $2",
    [tenant_id, hash],
  );
  assert(row !== undefined, `policy ${hash} is missing`);
  return row.body;
}

async function platformOf(tx: Queryable, tenant_id: string, hash: string): Promise<string> {
  const { policy } = loadPolicy(await policyBody(tx, tenant_id, hash));
  return policy.parties.platform;
}

export async function lockOrder(tx: Queryable, tenant_id: string, order_id: string): Promise<OrderRow> {
  const [row] = await tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${order_columns} FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenant_id, order_id],
  );
  if (row === undefined)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(order_id)}`, "id");
  return row;
}

export interface StoredRefund extends RefundView {
  request: unknown;
  request_sha256: string;
}

export async function selectRefunds(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Map<string, StoredRefund[]>> {
  const rows = await tx.query<StoredRefund & { order_id: string } & Record<string, unknown>>(
    `SELECT order_id, refund_id, kind, amount_minor, request, request_sha256, reversal, transaction_id::text AS transaction_id,
            before_release, created_at
       FROM order_refunds WHERE tenant_id = $1 AND order_id = ANY($2::text[]) ORDER BY transaction_id`,
    [tenant_id, order_ids],
  );
  const result = new Map<string, StoredRefund[]>();
  for (const { order_id, ...refund } of rows) {
    const list = result.get(order_id) ?? [];
    list.push(refund as StoredRefund);
    result.set(order_id, list);
  }
  return result;
}

function orderEvent(type: string, row: OrderRow, extra: Record<string, unknown>) {
  return {
    type,
    party_ids: [...new Set(row.allocation.legs.map((leg) => leg.party_id))].sort(),
    payload: { order_id: row.id, merchant_id: row.merchant_id, ...extra },
  };
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
