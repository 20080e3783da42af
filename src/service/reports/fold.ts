import { assert } from "../../core/assert.ts";
import { fold_rounds_per_tenant_max } from "../../core/limits.ts";
import {
  fold_leaves_max,
  foldLeaves,
  nextFoldBatch,
  type PieceRow,
  splitCreditsIn,
  tenantsBehind,
} from "../../store/account-daily-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { postingKey, splitPostingPieces } from "./split-pieces.ts";

// Keeps the per-account daily aggregates current, off the booking's critical
// path: booking writes nothing for reports; this folds the log's leaves, which
// the log sequencer assigns in commit order, some time after. A statement adds
// the few transactions not folded yet, so it is exact whatever the lag.
// One folder per tenant at a time, through a transaction-scoped advisory lock.
// A split's credit to a party's held account is folded in pieces by kind
// (sales, commission, supplier cost, ...), read from the order's legs, so a
// statement shows the gross-to-net breakdown without reading any leg.

// The advisory lock's first key: "ClearSplit reports".
const fold_lock_class = 0x0c5e_0e16;

/** Folds one batch for a tenant; returns the leaves folded (0 when another process leads or nothing is new). */
export async function foldTenantOnce(
  ctx: ServiceContext,
  tenant_id: string,
  leaves_max = fold_leaves_max,
): Promise<number> {
  return inTransaction(ctx.db, async (tx) => {
    const lock = await tx.query<{ leader: boolean }>(
      "SELECT pg_try_advisory_xact_lock($1::int4, hashtext($2)) AS leader",
      [fold_lock_class, tenant_id],
    );
    if (lock[0]?.leader !== true) return 0;
    const batch = await nextFoldBatch(tx, tenant_id, leaves_max);
    const credits = await splitCreditsIn(tx, tenant_id, batch);
    const cut = await splitPostingPieces(tx, tenant_id, credits);
    const pieces: PieceRow[] = [];
    for (const credit of credits)
      for (const piece of cut.get(postingKey(credit.transaction_id, credit.seq)) ?? [])
        pieces.push({ transaction_id: credit.transaction_id, seq: credit.seq, ...piece });
    const result = await foldLeaves(tx, tenant_id, batch, pieces, ctx.now());
    assert(result.leaves <= leaves_max, "the fold took more leaves than asked");
    return result.leaves;
  });
}

/** Folds every tenant until caught up (bounded per round); returns the leaves folded. */
export async function foldLedgerDays(ctx: ServiceContext): Promise<number> {
  let total = 0;
  for (const tenant_id of await tenantsBehind(ctx.db)) {
    for (let round = 0; round < fold_rounds_per_tenant_max; round++) {
      const count = await foldTenantOnce(ctx, tenant_id);
      total += count;
      if (count < fold_leaves_max) break;
    }
  }
  return total;
}
