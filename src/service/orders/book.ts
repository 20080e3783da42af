import { assert } from "../../core/assert.ts";
import type { LoadedConfig } from "../../core/audit/config.ts";
import { canonicalJson } from "../../core/canonical-json.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import type { Account, PartyKind, TransactionRequest } from "../../core/ledger/types.ts";
import { splitPieceKind, splitPieces } from "../../core/reports/split-lines.ts";
import { sha256Hex } from "../../core/sha256.ts";
import { minorToJson } from "../../core/split/allocation-json.ts";
import type { Policy } from "../../core/split/index.ts";
import {
  type Allocation,
  allocate,
  allocationToJson,
  type Order,
  parseOrder,
} from "../../core/split/index.ts";
import { isSubsidyLeg, subsidy_flag, subsidy_rule_id, subsidyOf } from "../../core/split/subsidy.ts";
import type { Queryable } from "../../store/database.ts";
import { orderPartyRowsStep } from "../../store/order-parties-sql.ts";
import { ordersWrite, selectOrders } from "../../store/orders-sql.ts";
import { inTransaction, RetryTransaction } from "../../store/retry.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";
import { auditBookedOrders } from "../audit/booking.ts";
import { configInForce } from "../audit/configs.ts";
import type { ServiceContext } from "../context.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { journalSteps, planJournalBatch } from "../ledger/write-batch.ts";
import { LoopSlicer, mapInSlices } from "../slices.ts";
import { allocationsFor, legPartyIds } from "./allocation.ts";
import {
  accountFor,
  type PartyAccountSpec,
  partyAccounts,
  partyKinds,
  shared_kinds,
} from "./party-accounts.ts";
import { loadPolicyResolver } from "./policy-resolver.ts";
import { briefOf, type OrderBrief, type OrderRow, type OrderView, viewOf } from "./view.ts";

export const orders_per_batch_max = 1_000;
/**
 * How far ahead of the server's clock a mall's timestamp (paid_at, a
 * completion's completed_at) may be: clocks drift, a payment made "now" may
 * carry a time seconds ahead of ours. Anything later is a wrong clock or a bug.
 */
export const clock_skew_ms_max = 5 * 60_000;
/**
 * How far ahead of the server's clock a paid_at may be: a day. Wider than the
 * skew, because malls replay and batch payment notifications and some send
 * local time as UTC; the audit rule event_time_skew flags the suspicious ones
 * within it. Beyond a day it is a wrong clock or a bug: paid_at_out_of_range.
 */
export const paid_at_ahead_ms_max = 86_400_000;

/**
 * `order` is the full explained view (built when first read: a batch never
 * reads it); `brief` is what a batch returns.
 */
export type BookResult =
  | { status: "created" | "replayed"; readonly order: OrderView; brief: OrderBrief }
  | { status: "rejected"; error: DomainError };

interface Candidate {
  index: number;
  body: unknown;
  order: Order;
  /** The facts in RFC 8785 form: hashed, and stored (jsonb keeps no key order anyway). */
  facts_json: string;
  facts_sha256: string;
}

interface Planned extends Candidate {
  allocation: Allocation;
  /** The policy the allocation followed: the booking audit rules read its cap and rates. */
  policy: Policy;
  request: TransactionRequest;
  /** Every party with a leg: who sees the order's events. */
  party_ids: string[];
  /** The ones order_parties lists: all but the shared kinds (migration 007). */
  indexed_party_ids: string[];
  /** Referrers that are not parties: their share went to the platform (stored on the order row). */
  referrers_unknown: string[] | null;
  /** Each credited party's share by statement kind, as JSON text (migration 056): what the report fold reads. */
  split_pieces_json: string;
}

/**
 * Books paid orders: each order's split goes into its parties' held accounts.
 * One database transaction for the whole batch; each order gets its own
 * result, and a bad order never sinks the others. The same order id with the
 * same facts is a replay; with other facts it is `order_conflict`.
 */
export async function bookOrders(
  ctx: ServiceContext,
  tenant_id: string,
  bodies: readonly unknown[],
): Promise<BookResult[]> {
  assert(bodies.length <= orders_per_batch_max, `a batch holds at most ${orders_per_batch_max} orders`);
  const results: (BookResult | undefined)[] = new Array(bodies.length);
  const candidates = (await parseAll(bodies, results)).filter((candidate) => {
    const error = paidAtTooLate(candidate.order, ctx.now());
    if (error !== null) results[candidate.index] = { status: "rejected", error };
    return error === null;
  });
  return inTransaction(ctx.db, async (tx) => {
    const attempt = [...results];
    const duplicate_of = new Map<number, number>();
    const audit: { config: LoadedConfig | null } = { config: null };
    const planned = await plan(tx, tenant_id, candidates, attempt, duplicate_of, ctx.now(), audit);
    await write(tx, tenant_id, planned, attempt, ctx.now());
    // The cheap audit rules, in this transaction: a hit's case exists exactly when its order does.
    await auditBookedOrders(
      tx,
      tenant_id,
      audit.config,
      planned.filter((item) => attempt[item.index]?.status === "created"),
      ctx.now(),
    );
    for (const [index, first_index] of duplicate_of) {
      const first = attempt[first_index];
      assert(first !== undefined, "a duplicate's original has no result");
      attempt[index] =
        first.status === "rejected"
          ? first
          : {
              status: "replayed",
              brief: first.brief,
              get order() {
                return first.order;
              },
            };
    }
    for (const [index, result] of attempt.entries())
      assert(result !== undefined, `order ${index} got no result`);
    return attempt as BookResult[];
  });
}

/** paid_at may not be more than a day past the server's clock (parseOrder checks the floor). */
function paidAtTooLate(order: Order, now: Date): DomainError | null {
  const latest_ms = now.getTime() + paid_at_ahead_ms_max;
  if (Date.parse(order.paid_at) <= latest_ms) return null;
  return new DomainError(
    "paid_at_out_of_range",
    `paid_at ${order.paid_at} is more than ${paid_at_ahead_ms_max / 3_600_000} hours past the server's clock ` +
      `(${new Date(latest_ms).toISOString()}); send the time the buyer paid`,
    "paid_at",
  );
}

/** Parsed, canonicalised and hashed before the transaction opens: no lock waits on this work. */
async function parseAll(
  bodies: readonly unknown[],
  results: (BookResult | undefined)[],
): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  const slicer = new LoopSlicer();
  for (const [index, body] of bodies.entries()) {
    try {
      const order = parseOrder(body);
      const facts_json = canonicalJson(body);
      const facts_sha256 = sha256Hex(facts_json);
      candidates.push({ index, body, order, facts_json, facts_sha256 });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      results[index] = { status: "rejected", error };
    }
    await slicer.pause();
  }
  return candidates;
}

async function plan(
  tx: Queryable,
  tenant_id: string,
  candidates: readonly Candidate[],
  results: (BookResult | undefined)[],
  duplicate_of: Map<number, number>,
  now: Date,
  audit: { config: LoadedConfig | null },
): Promise<Planned[]> {
  // The reads in one flight; the resolver covers every candidate, a superset of the fresh ones.
  const [existing, resolver, config] = await Promise.all([
    selectOrders(tx, tenant_id, [...new Set(candidates.map((c) => c.order.id))]),
    loadPolicyResolver(
      tx,
      tenant_id,
      candidates.map((c) => c.order),
    ),
    configInForce(tx, tenant_id),
  ]);
  // Which referrers are parties (a cached lookup): an unknown one's share goes to the platform.
  const referrer_kinds = await partyKinds(
    tx,
    tenant_id,
    candidates.flatMap((c) => c.order.referrers),
  );
  audit.config = config;
  const allocationOf = await allocationsFor(tx, tenant_id, [...existing.values()]);
  const first_by_id = new Map<string, Candidate>();
  const fresh: Candidate[] = [];
  for (const candidate of candidates) {
    const known = existing.get(candidate.order.id);
    const earlier = first_by_id.get(candidate.order.id);
    const facts_sha256 = known?.facts_sha256 ?? earlier?.facts_sha256;
    if (facts_sha256 !== undefined && facts_sha256 !== candidate.facts_sha256) {
      results[candidate.index] = { status: "rejected", error: orderConflict(candidate.order.id) };
    } else if (known !== undefined) {
      const allocation = allocationOf(known);
      results[candidate.index] = {
        status: "replayed",
        order: viewOf(known, allocation, null),
        brief: briefOf(known, allocation.legs),
      };
    } else if (earlier !== undefined) {
      duplicate_of.set(candidate.index, earlier.index);
    } else {
      first_by_id.set(candidate.order.id, candidate);
      fresh.push(candidate);
    }
  }
  const allocated: {
    candidate: Candidate;
    allocation: Allocation;
    platform: string;
    policy: Policy;
    referrers_unknown: string[] | null;
  }[] = [];
  const slicer = new LoopSlicer();
  for (const candidate of fresh) {
    await slicer.pause();
    try {
      const { policy, policy_hash } = resolver.resolve(candidate.order);
      const unknown = candidate.order.referrers.filter((id) => !referrer_kinds.has(id));
      allocated.push({
        candidate,
        allocation: allocate(policy, candidate.order, {
          policy_hash,
          ...(unknown.length === 0 ? {} : { unknown_referrers: unknown }),
        }),
        platform: policy.parties.platform,
        policy,
        referrers_unknown: unknown.length === 0 ? null : unknown,
      });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      results[candidate.index] = { status: "rejected", error };
    }
  }
  // Every party the order names must exist and be active, even one the split
  // gives nothing (a line minimum can take a small order whole): issue 12.
  const namedOf = (a: (typeof allocated)[number]) => [
    ...namedParties(a.candidate.order),
    a.platform,
    ...a.allocation.legs.map((leg) => leg.party_id),
  ];
  const kinds = await partyKinds(tx, tenant_id, allocated.flatMap(namedOf), { active_only: true });
  const known: typeof allocated = [];
  for (const item of allocated) {
    const unknown = namedOf(item).find((id) => !kinds.has(id));
    if (unknown === undefined) known.push(item);
    else {
      const inactive = (await partyKinds(tx, tenant_id, [unknown])).has(unknown);
      results[item.candidate.index] = {
        status: "rejected",
        error: unknownParty(item.candidate.order, unknown, inactive),
      };
    }
  }
  const specs: PartyAccountSpec[] = known.flatMap(({ allocation, platform }) => [
    { party_id: platform, purpose: "clearing", currency: allocation.currency },
    ...(allocation.flags.includes(subsidy_flag)
      ? [{ party_id: platform, purpose: "expense" as const, currency: allocation.currency }]
      : []),
    ...allocation.legs.map((leg) => ({
      party_id: leg.party_id,
      purpose: "held" as const,
      currency: allocation.currency,
    })),
  ]);
  const accounts = await partyAccounts(tx, tenant_id, specs, kinds, now);
  return mapInSlices(
    known,
    ({ candidate, allocation, platform, policy, referrers_unknown }) => ({
      ...candidate,
      allocation,
      policy,
      referrers_unknown,
      request: paidTransaction(candidate.order, allocation, platform, accounts),
      split_pieces_json: splitPiecesJson(candidate.order, allocation),
      ...partyIdsOf(allocation, kinds),
    }),
    slicer,
  );
}

/**
 * The pieces by kind of every party's credit in this split (what a statement
 * shows: src/core/reports/split-lines.ts), from the allocation in hand, so the
 * report fold need not recompute the split from the facts. Each party's
 * pieces sum to its credit, which paidTransaction books as one posting.
 */
function splitPiecesJson(order: Order, allocation: Allocation): string {
  const split = {
    merchant_id: order.merchant_id,
    paid_minor: order.paid_minor,
    subsidy_rule_id,
    legs: allocation.legs,
  };
  const credit_of = new Map<string, bigint>();
  for (const leg of allocation.legs)
    if (!isSubsidyLeg(leg))
      credit_of.set(leg.party_id, (credit_of.get(leg.party_id) ?? 0n) + leg.amount_minor);
  const by_party: Record<string, Record<string, string>> = {};
  for (const [party_id, credit_minor] of credit_of) {
    const pieces: Record<string, string> = {};
    let sum_minor = 0n;
    for (const [kind, amount_minor] of splitPieces(split, party_id)) {
      pieces[splitPieceKind(kind)] = amount_minor.toString();
      sum_minor += amount_minor;
    }
    assert(
      sum_minor === credit_minor,
      `the pieces of ${party_id}'s credit sum to ${sum_minor}, not ${credit_minor}`,
    );
    by_party[party_id] = pieces;
  }
  return JSON.stringify(by_party);
}

function partyIdsOf(
  allocation: Allocation,
  kinds: ReadonlyMap<string, PartyKind>,
): { party_ids: string[]; indexed_party_ids: string[] } {
  const party_ids = legPartyIds(allocation);
  return { party_ids, indexed_party_ids: party_ids.filter((id) => !shared_kinds.has(kinds.get(id)!)) };
}

/**
 * Clearing (the buyer's money at the PSP) pays each party's held account its
 * legs' total. A platform subsidy is funded in the same transaction from the
 * platform's expense account, so the positive legs get paid + subsidy.
 */
function paidTransaction(
  order: Order,
  allocation: Allocation,
  platform: string,
  accounts: ReadonlyMap<string, Account>,
): TransactionRequest {
  const by_party = new Map<string, bigint>();
  const subsidy_minor = subsidyOf(allocation.legs);
  for (const leg of allocation.legs) {
    if (isSubsidyLeg(leg)) continue;
    by_party.set(leg.party_id, (by_party.get(leg.party_id) ?? 0n) + leg.amount_minor);
  }
  let total_minor = 0n;
  const credits = [...by_party]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([party_id, amount_minor]) => {
      assert(amount_minor > 0n, `party ${party_id} is credited a positive amount`);
      total_minor += amount_minor;
      const account = accountFor(accounts, { party_id, purpose: "held", currency: order.currency });
      return { account_id: account.id, side: "credit" as const, amount_minor, currency: order.currency };
    });
  assert(
    total_minor === order.paid_minor + subsidy_minor,
    `legs of ${order.id} sum to ${total_minor}, not ${order.paid_minor} paid + ${subsidy_minor} subsidy`,
  );
  const account = (purpose: "clearing" | "expense") =>
    accountFor(accounts, { party_id: platform, purpose, currency: order.currency }).id;
  return {
    idempotency_key: `order:${order.id}:paid`,
    kind: "split",
    effective_at: new Date(order.paid_at),
    order_id: order.id,
    policy_hash: allocation.policy_hash,
    entries: [
      {
        account_id: account("clearing"),
        side: "debit",
        amount_minor: order.paid_minor,
        currency: order.currency,
      },
      ...(subsidy_minor > 0n
        ? [
            {
              account_id: account("expense"),
              side: "debit" as const,
              amount_minor: subsidy_minor,
              currency: order.currency,
            },
          ]
        : []),
      ...credits,
    ],
  };
}

async function write(
  tx: Queryable,
  tenant_id: string,
  planned: readonly Planned[],
  results: (BookResult | undefined)[],
  now: Date,
): Promise<void> {
  // plan() found none of these orders booked, and an order's journal key is
  // written only with its order row, so the keys are known to be unused. The
  // order rows, built from the planned transactions, go in the same statement
  // as the journal's.
  const plan = await planJournalBatch(
    tx,
    tenant_id,
    planned.map((p) => p.request),
    now,
    { keys_unused: true },
  );
  const booked = [...plan.created].map(([position, transaction]) => {
    const item = planned[position]!;
    return { item, row: orderRow(item, transaction.id, now) };
  });
  await writeSteps(tx, journalSteps(plan, booked.length === 0 ? [] : orderWrites(tenant_id, booked, now)));
  const journal = plan.results;
  planned.forEach((item, position) => {
    const result = journal[position]!;
    if (result.status === "rejected") results[item.index] = { status: "rejected", error: result.error };
    // A replayed journal key means another writer booked this order since we looked.
    else if (result.status === "replayed")
      throw new RetryTransaction(`order ${item.order.id} was booked concurrently`);
  });
  assert(
    booked.length === journal.filter((result) => result.status === "created").length,
    "every created journal transaction has its order row",
  );
  for (const { item, row } of booked) results[item.index] = createdResult(row, item.allocation);
}

function createdResult(row: OrderRow, allocation: Allocation): BookResult {
  let view: OrderView | undefined;
  return {
    status: "created",
    get order() {
      view ??= viewOf(row, allocationToJson(allocation), null);
      return view;
    },
    brief: briefOf(row, allocation.legs),
  };
}

function orderWrites(
  tenant_id: string,
  booked: readonly { item: Planned; row: OrderRow }[],
  now: Date,
): (WriteStep | null)[] {
  const indexed = booked.flatMap((b) =>
    b.item.indexed_party_ids.map((party_id) => [party_id, b.item.order.id] as const),
  );
  return [
    ordersWrite(
      tenant_id,
      booked.map((b) => b.row),
      booked.map((b) => b.item.facts_json),
      booked.map((b) => b.item.split_pieces_json),
    ),
    orderPartyRowsStep(tenant_id, indexed),
    eventsWrite(
      tenant_id,
      booked.map(({ item, row }) => ({
        type: "order.booked",
        party_ids: item.party_ids,
        payload: {
          order_id: row.id,
          merchant_id: row.merchant_id,
          currency: row.currency,
          paid_minor: minorToJson(row.paid_minor),
          state: "held",
        },
      })),
      now,
    ),
  ];
}

function orderRow(item: Planned, transaction_id: string, now: Date): OrderRow {
  return {
    id: item.order.id,
    merchant_id: item.order.merchant_id,
    currency: item.order.currency,
    paid_minor: item.order.paid_minor,
    paid_at: new Date(item.order.paid_at),
    facts: item.body,
    facts_sha256: item.facts_sha256,
    policy_hash: item.allocation.policy_hash,
    transaction_id,
    refunded_minor: 0n,
    completed_at: null,
    releasable_at: null,
    released_at: null,
    release_transaction_id: null,
    created_at: now,
    referrers_unknown: item.referrers_unknown,
  };
}

function orderConflict(order_id: string): DomainError {
  return new DomainError(
    "order_conflict",
    `order ${JSON.stringify(order_id)} was already booked with different facts`,
    "id",
    {
      order_id,
    },
  );
}

/** The parties an order names itself: its merchant and its lines' suppliers. */
function namedParties(order: Order): string[] {
  const named = [order.merchant_id];
  for (const line of order.lines) if (line.supplier_id !== undefined) named.push(line.supplier_id);
  return named;
}

function unknownParty(order: Order, party_id: string, inactive: boolean): DomainError {
  const field =
    party_id === order.merchant_id
      ? "merchant_id"
      : order.referrers.includes(party_id)
        ? `referrers[${order.referrers.indexOf(party_id)}]`
        : (() => {
            const line = order.lines.findIndex((l) => l.supplier_id === party_id);
            return line >= 0 ? `lines[${line}].supplier_id` : "policy";
          })();
  if (inactive)
    return new DomainError(
      "party_inactive",
      `${field}: party ${JSON.stringify(party_id)} is inactive and may not be named by a new order`,
      field,
      { party_id },
    );
  return new DomainError(
    "party_unknown",
    `${field}: no party ${JSON.stringify(party_id)} in this tenant`,
    field,
    { party_id },
  );
}
