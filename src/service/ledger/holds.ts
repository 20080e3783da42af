import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { sha256Json } from "../../core/ledger/content-hash.ts";
import type { TransactionRequest } from "../../core/ledger/types.ts";
import { validateEntriesAgainstAccounts, validateTransactionRequest } from "../../core/ledger/validate.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type HoldRow,
  insertPendingHold,
  lockDueHolds,
  lockHold,
  selectHoldById,
  selectHoldByKey,
  updateHoldPosted,
  updateHoldResolved,
} from "../../store/holds-sql.ts";
import {
  applyBalanceDeltas,
  lockBalances,
  selectAccounts,
  selectTransactionKey,
} from "../../store/ledger-sql.ts";
import { inTransaction, RetryTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { writeJournalBatch } from "./write-batch.ts";

// Two-phase transfers: a hold reserves an amount out of the source account
// (it stops counting as available) until it is posted in full or in part,
// voided, or expires. Posting books a real journal transaction.

export type Hold = Omit<HoldRow, "content_hash">;

export interface HoldRequest {
  idempotency_key: string;
  source_account_id: string;
  destination_account_id: string;
  amount_minor: bigint;
  currency: string;
  expires_at?: Date | undefined;
  memo?: string | undefined;
}

export function createHold(ctx: ServiceContext, tenant_id: string, request: HoldRequest): Promise<Hold> {
  const as_transaction = holdAsTransaction(request);
  validateTransactionRequest(as_transaction);
  if (request.source_account_id === request.destination_account_id) {
    throw new DomainError(
      "accounts_must_be_different",
      "destination_account_id must differ from source_account_id",
      "destination_account_id",
    );
  }
  const content_hash = sha256Json({
    source_account_id: request.source_account_id,
    destination_account_id: request.destination_account_id,
    amount_minor: request.amount_minor.toString(),
    currency: request.currency,
    expires_at: request.expires_at?.toISOString() ?? null,
    memo: request.memo ?? null,
  });
  return inTransaction(ctx.db, async (tx) => {
    const existing = await selectHoldByKey(tx, tenant_id, request.idempotency_key);
    if (existing !== undefined) {
      if (existing.content_hash !== content_hash) {
        throw new DomainError(
          "idempotency_key_conflict",
          `idempotency key ${JSON.stringify(request.idempotency_key)} was already used for a different request`,
          "idempotency_key",
        );
      }
      return asHold(existing);
    }
    const now = ctx.now();
    if (request.expires_at !== undefined && request.expires_at <= now) {
      throw new DomainError("expires_at_in_past", "expires_at must be in the future", "expires_at");
    }
    const accounts = await selectAccounts(tx, tenant_id, [
      request.source_account_id,
      request.destination_account_id,
    ]);
    validateEntriesAgainstAccounts(as_transaction, accounts);
    const source = accounts.get(request.source_account_id)!;
    const keys = Array.from({ length: source.bucket_count }, (_, bucket) => ({
      account_id: source.id,
      bucket,
    }));
    keys.push({ account_id: request.destination_account_id, bucket: 0 });
    const locked = await lockBalances(tx, tenant_id, keys);
    const available_minor = locked
      .filter((row) => row.account_id === source.id)
      .reduce((sum, row) => sum + row.posted_minor - row.pending_out_minor, 0n);
    if (!source.allow_negative && available_minor < request.amount_minor) {
      throw new DomainError(
        "insufficient_funds",
        `account ${source.id} has ${available_minor} available but the hold needs ${request.amount_minor}`,
        "source_account_id",
      );
    }
    const id = newId();
    const inserted = await insertPendingHold(
      tx,
      tenant_id,
      {
        id,
        idempotency_key: request.idempotency_key,
        content_hash,
        source_account_id: source.id,
        destination_account_id: request.destination_account_id,
        amount_minor: request.amount_minor,
        currency: request.currency,
        expires_at: request.expires_at ?? null,
        memo: request.memo ?? null,
      },
      now,
    );
    if (!inserted) throw new RetryTransaction("hold idempotency key taken concurrently");
    await reserve(
      tx,
      tenant_id,
      request.source_account_id,
      request.destination_account_id,
      request.amount_minor,
    );
    const created = await selectHoldById(tx, tenant_id, id);
    assert(created !== undefined, "hold just written is missing");
    return asHold(created);
  });
}

export interface PostHoldRequest {
  hold_id: string;
  idempotency_key: string;
  /** Defaults to the whole held amount; a smaller amount releases the rest. */
  amount_minor?: bigint | undefined;
}

export function postHold(ctx: ServiceContext, tenant_id: string, request: PostHoldRequest): Promise<Hold> {
  return inTransaction(ctx.db, async (tx) => {
    const hold = await lockPendingHold(tx, tenant_id, request.hold_id, ctx.now(), request.idempotency_key);
    if (hold.status === "posted") return hold;
    const amount_minor = request.amount_minor ?? hold.amount_minor;
    if (amount_minor <= 0n) {
      throw new DomainError(
        "amount_not_positive",
        `amount_minor must be greater than zero, got ${amount_minor}`,
        "amount_minor",
      );
    }
    if (amount_minor > hold.amount_minor) {
      throw new DomainError(
        "hold_amount_exceeded",
        `amount_minor ${amount_minor} is more than the ${hold.amount_minor} the hold reserves`,
        "amount_minor",
      );
    }
    await reserve(tx, tenant_id, hold.source_account_id, hold.destination_account_id, -hold.amount_minor);
    const now = ctx.now();
    const [result] = await writeJournalBatch(
      tx,
      tenant_id,
      [
        {
          idempotency_key: request.idempotency_key,
          kind: "hold_post",
          hold_id: hold.id,
          entries: [
            { account_id: hold.source_account_id, side: "debit", amount_minor, currency: hold.currency },
            {
              account_id: hold.destination_account_id,
              side: "credit",
              amount_minor,
              currency: hold.currency,
            },
          ],
        },
      ],
      now,
    );
    assert(result !== undefined, "no result for the hold's transaction");
    if (result.status === "rejected") throw result.error;
    await updateHoldPosted(tx, tenant_id, hold.id, {
      posted_minor: amount_minor,
      resolved_at: now,
      transaction_id: result.transaction.id,
    });
    return {
      ...hold,
      status: "posted",
      posted_minor: amount_minor,
      resolved_at: now,
      transaction_id: result.transaction.id,
    };
  });
}

/** Voids a pending hold and frees its reservation. Voiding a voided hold returns it unchanged. */
export function voidHold(ctx: ServiceContext, tenant_id: string, hold_id: string): Promise<Hold> {
  return inTransaction(ctx.db, async (tx) => {
    const found = await lockHold(tx, tenant_id, hold_id);
    if (found === undefined) throw holdNotFound(hold_id);
    const hold = asHold(found);
    if (hold.status === "voided") return hold;
    if (hold.status === "posted")
      throw new DomainError("hold_already_posted", `hold ${hold_id} was already posted`, "hold_id");
    if (hold.status === "expired")
      throw new DomainError("hold_expired", `hold ${hold_id} has expired`, "hold_id");
    const now = ctx.now();
    await resolve(tx, tenant_id, hold, "voided", now);
    return { ...hold, status: "voided", resolved_at: now };
  });
}

/** Frees the reservations of pending holds whose time is up. Returns how many expired. */
export function expireHolds(ctx: ServiceContext, tenant_id: string, limit = 1000): Promise<number> {
  return inTransaction(ctx.db, async (tx) => {
    const now = ctx.now();
    const due = await lockDueHolds(tx, tenant_id, now, limit);
    for (const hold of due) await resolve(tx, tenant_id, asHold(hold), "expired", now);
    return due.length;
  });
}

async function lockPendingHold(
  tx: Queryable,
  tenant_id: string,
  hold_id: string,
  now: Date,
  key: string,
): Promise<Hold> {
  const found = await lockHold(tx, tenant_id, hold_id);
  if (found === undefined) throw holdNotFound(hold_id);
  const hold = asHold(found);
  if (hold.status === "posted") {
    if ((await selectTransactionKey(tx, tenant_id, hold.transaction_id)) === key) return hold;
    throw new DomainError("hold_already_posted", `hold ${hold_id} was already posted`, "hold_id");
  }
  if (hold.status === "voided")
    throw new DomainError("hold_voided", `hold ${hold_id} was voided and cannot be posted`, "hold_id");
  if (hold.status === "expired" || (hold.expires_at !== null && hold.expires_at <= now)) {
    throw new DomainError(
      "hold_expired",
      `hold ${hold_id} expired at ${hold.expires_at?.toISOString()}`,
      "hold_id",
    );
  }
  return hold;
}

async function resolve(
  tx: Queryable,
  tenant_id: string,
  hold: Hold,
  status: "voided" | "expired",
  now: Date,
): Promise<void> {
  await reserve(tx, tenant_id, hold.source_account_id, hold.destination_account_id, -hold.amount_minor);
  await updateHoldResolved(tx, tenant_id, hold.id, status, now);
}

/** Moves the reservation counters of a hold's two accounts by `amount_minor` (negative releases). */
async function reserve(
  tx: Queryable,
  tenant_id: string,
  source: string,
  destination: string,
  amount_minor: bigint,
): Promise<void> {
  await applyBalanceDeltas(tx, tenant_id, [
    {
      account_id: source,
      bucket: 0,
      posted_minor: 0n,
      pending_out_minor: amount_minor,
      pending_in_minor: 0n,
    },
    {
      account_id: destination,
      bucket: 0,
      posted_minor: 0n,
      pending_out_minor: 0n,
      pending_in_minor: amount_minor,
    },
  ]);
}

function holdAsTransaction(request: HoldRequest): TransactionRequest {
  return {
    idempotency_key: request.idempotency_key,
    kind: "hold",
    memo: request.memo,
    entries: [
      {
        account_id: request.source_account_id,
        side: "debit",
        amount_minor: request.amount_minor,
        currency: request.currency,
      },
      {
        account_id: request.destination_account_id,
        side: "credit",
        amount_minor: request.amount_minor,
        currency: request.currency,
      },
    ],
  };
}

function holdNotFound(hold_id: string): DomainError {
  return new DomainError("hold_not_found", `no hold ${hold_id} in this tenant`, "hold_id");
}

/** A hold as the service answers it: the row without its content hash. */
function asHold({ content_hash: _, ...hold }: HoldRow): Hold {
  return hold;
}
