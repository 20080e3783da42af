import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import type { PartyKind } from "../../core/ledger/types.ts";
import { named_parties_max, parties_per_run_max } from "../../core/limits.ts";
import { cycleOn, isoDate, parseProfile } from "../../core/settlement/profile.ts";
import { commitHorizon } from "../../store/event-seqs-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectPartiesMaybeDue } from "../../store/settlement-open-sql.ts";
import {
  finishSettlementRun,
  insertSettlementRun,
  selectSettlementCandidates,
} from "../../store/settlement-runs-sql.ts";
import { writeSteps } from "../../store/write-set.ts";
import type { ServiceContext } from "../context.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { type PartyOutcome, settlePartyCycle } from "./settle-party.ts";

/** Kinds that are never paid out: the platform keeps its revenue; the PSP and tax office are paid elsewhere. */
export const unsettled_kinds: ReadonlySet<PartyKind> = new Set(["platform", "psp", "tax"]);

export interface RunOptions {
  /** The run's instant; its UTC day decides which cycles are due. Defaults to now. */
  as_of?: Date | undefined;
  trigger: "cli" | "api" | "scheduler";
  /** Parties to settle even on a manual cycle or off their weekday; others are skipped. */
  party_ids?: readonly string[] | undefined;
  /** Called after each party's transaction commits (progress, and the crash test's pause). */
  after_party?: ((outcome: PartyOutcome, index: number, total: number) => Promise<void> | void) | undefined;
}

export interface RunResult {
  run_id: string;
  run_date: string;
  as_of: Date;
  parties_due: number;
  paid: PayoutSummary[];
  carried_over: PayoutSummary[];
  replayed: PayoutSummary[];
  nothing_due: number;
  /** Parties an open party-level audit case holds: not paid until it is decided. */
  held_by_case: { party_id: string; currency: string; case_ids: string[] }[];
  totals: Record<string, { amount_minor: bigint; netted_minor: bigint; payouts: number }>;
}

export interface PayoutSummary {
  payout_id: string;
  party_id: string;
  currency: string;
  amount_minor: bigint;
  netted_minor: bigint;
  reference: string;
  state: string;
}

interface Candidate {
  party_id: string;
  /** Its available account in `currency`. */
  account_id: string;
  kind: PartyKind;
  currency: string;
  settlement: unknown;
}

/**
 * Runs settlement for every party due on the day of `as_of`. One statement
 * first finds the parties with nothing to do (selectPartiesMaybeDue); each
 * other party and currency is its own database transaction, so a crash between two parties
 * leaves the first paid and the second untouched; the payout's (party,
 * currency, cycle) key makes the re-run pay the first as a replay.
 */
export async function runSettlement(
  ctx: ServiceContext,
  tenant_id: string,
  options: RunOptions,
): Promise<RunResult> {
  const as_of = options.as_of ?? ctx.now();
  assert(!Number.isNaN(as_of.getTime()), "as_of must be a valid instant");
  if (as_of.getTime() > ctx.now().getTime())
    throw new DomainError(
      "as_of_in_future",
      "as_of must not be later than now: future funds cannot be paid",
      "as_of",
    );
  const named = new Set(options.party_ids ?? []);
  if (named.size > named_parties_max)
    throw new DomainError(
      "settlement_parties_too_many",
      `name at most ${named_parties_max} parties`,
      "party_ids",
    );
  const run_id = newId();
  const run_date = isoDate(as_of);
  const now = ctx.now();
  const candidates = (await selectSettlementCandidates(ctx.db, tenant_id, {
    unsettled_kinds: [...unsettled_kinds],
    named: named.size > 0 ? [...named] : null,
    cutoff: new Date(`${run_date}T00:00:00Z`),
    limit: parties_per_run_max,
  })) as Candidate[];
  for (const id of named)
    if (!candidates.some((candidate) => candidate.party_id === id))
      throw new DomainError(
        "party_not_found",
        `no settleable party ${JSON.stringify(id)} with funds`,
        "party_ids",
      );
  await insertSettlementRun(ctx.db, tenant_id, {
    id: run_id,
    run_date,
    as_of,
    trigger: options.trigger,
    created_at: now,
  });
  const due = candidates.flatMap((candidate) => {
    const profile = parseProfile(candidate.settlement);
    if (profile.currency !== null && profile.currency !== candidate.currency) return [];
    const decision = cycleOn(profile.cycle, as_of, named.has(candidate.party_id));
    return decision.due ? [{ candidate, profile, decision }] : [];
  });
  const result: RunResult = {
    run_id,
    run_date,
    as_of,
    parties_due: due.length,
    paid: [],
    carried_over: [],
    replayed: [],
    nothing_due: 0,
    held_by_case: [],
    totals: {},
  };
  // Every transaction below it has ended: true for each party's transaction after it.
  const horizon = due.length > 0 ? await commitHorizon(ctx.db) : undefined;
  // One statement for every due party: replays answered from it, a transaction only for
  // the parties it could change (§38).
  const maybe_due =
    horizon === undefined
      ? new Map()
      : await selectPartiesMaybeDue(
          ctx.db,
          tenant_id,
          due.map(({ candidate, decision }) => ({
            party_id: candidate.party_id,
            currency: candidate.currency,
            cycle_key: decision.cycle_key,
            account_id: candidate.account_id,
            eligible_before: decision.eligible_before,
          })),
          horizon,
        );
  for (const [index, { candidate, profile, decision }] of due.entries()) {
    const answer = maybe_due.get(index);
    if (answer === undefined || answer.replay !== null) {
      const outcome: PartyOutcome =
        answer === undefined
          ? { status: "nothing_due", party_id: candidate.party_id, currency: candidate.currency }
          : { status: "replayed", payout: answer.replay };
      collect(result, outcome);
      await options.after_party?.(outcome, index, due.length);
      continue;
    }
    const outcome = await inTransaction(ctx.db, (tx) =>
      settlePartyCycle(
        tx,
        tenant_id,
        {
          party_id: candidate.party_id,
          kind: candidate.kind,
          currency: candidate.currency,
          profile,
          cycle_key: decision.cycle_key,
          eligible_before: decision.eligible_before,
          run_id,
          run_date,
          horizon,
        },
        ctx.now(),
      ),
    );
    collect(result, outcome);
    await options.after_party?.(outcome, index, due.length);
  }
  await finishRun(ctx, tenant_id, result);
  return result;
}

function collect(result: RunResult, outcome: PartyOutcome): void {
  if (outcome.status === "nothing_due") {
    result.nothing_due += 1;
    return;
  }
  if (outcome.status === "held_by_case") {
    const { party_id, currency, case_ids } = outcome;
    result.held_by_case.push({ party_id, currency, case_ids });
    return;
  }
  const payout = outcome.payout;
  const summary: PayoutSummary = {
    payout_id: payout.id,
    party_id: payout.party_id,
    currency: payout.currency,
    amount_minor: payout.amount_minor,
    netted_minor: payout.netted_minor,
    reference: payout.reference,
    state: payout.state,
  };
  if (outcome.status === "paid") {
    result.paid.push(summary);
    const total = result.totals[payout.currency] ?? { amount_minor: 0n, netted_minor: 0n, payouts: 0 };
    total.amount_minor += payout.amount_minor;
    total.netted_minor += payout.netted_minor;
    total.payouts += 1;
    result.totals[payout.currency] = total;
  } else if (outcome.status === "carried_over" || outcome.status === "netted")
    result.carried_over.push(summary);
  else result.replayed.push(summary);
}

async function finishRun(ctx: ServiceContext, tenant_id: string, result: RunResult): Promise<void> {
  const summary = runSummaryJson(result);
  await inTransaction(ctx.db, async (tx) => {
    const now = ctx.now();
    await finishSettlementRun(tx, tenant_id, result.run_id, summary, now);
    await writeSteps(tx, [
      eventsWrite(tenant_id, [{ type: "settlement.run_finished", party_ids: [], payload: summary }], now),
    ]);
  });
}

/** The run as plain JSON (amounts as integers of minor units). */
export function runSummaryJson(result: RunResult): Record<string, unknown> {
  const payout = (item: PayoutSummary) => ({
    ...item,
    amount_minor: Number(item.amount_minor),
    netted_minor: Number(item.netted_minor),
  });
  return {
    run_id: result.run_id,
    run_date: result.run_date,
    as_of: result.as_of.toISOString(),
    parties_due: result.parties_due,
    paid: result.paid.map(payout),
    carried_over: result.carried_over.map(payout),
    replayed: result.replayed.map(payout),
    nothing_due: result.nothing_due,
    held_by_case: result.held_by_case,
    totals: Object.fromEntries(
      Object.entries(result.totals).map(([currency, total]) => [
        currency,
        {
          amount_minor: Number(total.amount_minor),
          netted_minor: Number(total.netted_minor),
          payouts: total.payouts,
        },
      ]),
    ),
  };
}
