import { assert } from "../../core/assert.ts";
import { fold_rounds_per_tenant_max } from "../../core/limits.ts";
import {
  type FoldResult,
  fold_leaves_max,
  foldNextLeaves,
  type PieceRow,
  type SplitCredit,
  tenantsBehind,
} from "../../store/account-daily-sql.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { forEachTenant, type TenantErrorHandler } from "../tenant-rounds.ts";
import { postingKey, splitPostingPieces } from "./split-pieces.ts";

// Keeps the per-account daily aggregates current, off the booking's critical
// path: booking writes nothing for reports; this folds the log's leaves, which
// the log sequencer assigns in commit order, some time after. A statement adds
// the few transactions not folded yet, so it is exact whatever the lag.
// One folder per tenant at a time, through a transaction-scoped advisory lock.
// A split's credit to a party's held account is folded in pieces by kind
// (sales, commission, supplier cost, ...), the pieces the booking stored on
// the order (migration 056), so a statement shows the gross-to-net breakdown
// without reading any leg. The round is one statement (decisions §40): it
// reads each posting once and cuts the credits in SQL, so no piece travels
// between PostgreSQL and Node.

// The advisory lock's first key: "ClearSplit reports".
const fold_lock_class = 0x0c5e_0e16;

/** Folds one batch for a tenant; returns the leaves folded (0 when another process leads or nothing is new). */
export async function foldTenantOnce(
  ctx: ServiceContext,
  tenant_id: string,
  leaves_max = fold_leaves_max,
): Promise<number> {
  return inTransaction(ctx.db, async (tx) => {
    if (!(await tryTransactionLock(tx, fold_lock_class, tenant_id))) return 0;
    const first = await foldNextLeaves(
      tx,
      tenant_id,
      { leaves_max, through_leaf_max: null, recomputed: null },
      ctx.now(),
    );
    const result =
      first.unstored.length === 0 ? first : await foldRecomputed(tx, tenant_id, first, leaves_max, ctx.now());
    assert(result.leaves <= leaves_max, "the fold took more leaves than asked");
    assert(result.unstored.length === 0, "a fold round leaves no credit unfolded");
    return result.leaves;
  });
}

/**
 * Orders booked before migration 056 have no stored pieces: their splits are
 * recomputed from the facts, and the same leaves (the lock keeps the cursor
 * where it was) folded again with those pieces.
 */
async function foldRecomputed(
  tx: Queryable,
  tenant_id: string,
  first: FoldResult,
  leaves_max: number,
  now: Date,
): Promise<FoldResult> {
  assert(first.leaves > 0, "only a round with leaves has unstored credits");
  const recomputed = await recomputedPieces(tx, tenant_id, first.unstored);
  const second = await foldNextLeaves(
    tx,
    tenant_id,
    { leaves_max, through_leaf_max: first.through_leaf, recomputed },
    now,
  );
  assert(second.after_leaf === first.after_leaf, "the fold cursor moved under the fold's lock");
  assert(second.through_leaf === first.through_leaf, "the second pass folds the first pass's leaves");
  return second;
}

async function recomputedPieces(
  tx: Queryable,
  tenant_id: string,
  credits: readonly SplitCredit[],
): Promise<PieceRow[]> {
  const cut = await splitPostingPieces(tx, tenant_id, credits);
  const pieces: PieceRow[] = [];
  for (const credit of credits)
    for (const piece of cut.get(postingKey(credit.transaction_id, credit.seq)) ?? [])
      pieces.push({ transaction_id: credit.transaction_id, seq: credit.seq, ...piece });
  return pieces;
}

/**
 * Folds every tenant until caught up (bounded per round); returns the leaves folded. A tenant
 * whose fold fails is reported (or, with no handler, thrown after the others are folded).
 */
export async function foldLedgerDays(ctx: ServiceContext, on_error?: TenantErrorHandler): Promise<number> {
  let total = 0;
  await forEachTenant(
    await tenantsBehind(ctx.db),
    async (tenant_id) => {
      for (let round = 0; round < fold_rounds_per_tenant_max; round++) {
        const count = await foldTenantOnce(ctx, tenant_id);
        total += count;
        if (count < fold_leaves_max) break;
      }
    },
    on_error,
  );
  return total;
}
