import { assert } from "../../core/assert.ts";
import { fold_rounds_per_tenant_max } from "../../core/limits.ts";
import { split_piece_prefix } from "../../core/reports/split-lines.ts";
import {
  fold_leaves_max,
  foldLeaves,
  nextFoldBatch,
  type PieceRow,
  type SplitCredit,
  splitCreditsIn,
  tenantsBehind,
} from "../../store/account-daily-sql.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
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
    if (!(await tryTransactionLock(tx, fold_lock_class, tenant_id))) return 0;
    const batch = await nextFoldBatch(tx, tenant_id, leaves_max);
    const credits = await splitCreditsIn(tx, tenant_id, batch);
    const { pieces, unstored } = storedPieces(credits);
    // Orders booked before migration 056 have no stored pieces: recompute their splits.
    const cut = await splitPostingPieces(tx, tenant_id, unstored);
    for (const credit of unstored)
      for (const piece of cut.get(postingKey(credit.transaction_id, credit.seq)) ?? [])
        pieces.push({ transaction_id: credit.transaction_id, seq: credit.seq, ...piece });
    const result = await foldLeaves(tx, tenant_id, batch, pieces, ctx.now());
    assert(result.leaves <= leaves_max, "the fold took more leaves than asked");
    return result.leaves;
  });
}

/**
 * The pieces the booking stored, for the credits that have them; the rest,
 * to recompute. As when recomputing, a party credited more than once in one
 * split, or whose pieces do not sum to its posting, stays whole.
 */
export function storedPieces(credits: readonly SplitCredit[]): {
  pieces: PieceRow[];
  unstored: SplitCredit[];
} {
  const credits_per_party = new Map<string, number>();
  for (const credit of credits) {
    const key = `${credit.transaction_id}\u0000${credit.party_id}`;
    credits_per_party.set(key, (credits_per_party.get(key) ?? 0) + 1);
  }
  const pieces: PieceRow[] = [];
  const unstored: SplitCredit[] = [];
  for (const credit of credits) {
    if (credit.stored_pieces === null) {
      unstored.push(credit);
      continue;
    }
    if (credits_per_party.get(`${credit.transaction_id}\u0000${credit.party_id}`) !== 1) continue;
    const own: PieceRow[] = [];
    let sum_minor = 0n;
    let readable = true;
    for (const [kind, amount] of Object.entries(credit.stored_pieces)) {
      // Never trust stored derived data blindly: a malformed piece leaves the posting whole.
      if (
        !kind.startsWith(split_piece_prefix) ||
        typeof amount !== "string" ||
        !/^-?\d{1,19}$/.test(amount)
      ) {
        readable = false;
        break;
      }
      const amount_minor = BigInt(amount);
      sum_minor += amount_minor;
      own.push({ transaction_id: credit.transaction_id, seq: credit.seq, kind, amount_minor });
    }
    if (readable && sum_minor === credit.amount_minor && own.length > 0) pieces.push(...own);
  }
  return { pieces, unstored };
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
