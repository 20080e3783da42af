import type { DomainError } from "../../core/errors.ts";
import type { JournalTransaction, TransactionRequest } from "../../core/ledger/types.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { type PostResult, writeJournalBatch } from "./write-batch.ts";

/** Books a batch in one database transaction; every request gets its own result. */
export function postTransactions(
  ctx: ServiceContext,
  tenant_id: string,
  requests: readonly TransactionRequest[],
): Promise<PostResult[]> {
  return inTransaction(ctx.db, (tx) => writeJournalBatch(tx, tenant_id, requests, ctx.now()));
}

/** Books one transaction; a rejection is thrown as its DomainError. */
export async function postTransaction(
  ctx: ServiceContext,
  tenant_id: string,
  request: TransactionRequest,
): Promise<{ replayed: boolean; transaction: JournalTransaction }> {
  const [result] = await postTransactions(ctx, tenant_id, [request]);
  if (result === undefined) throw new Error("postTransactions returned no result");
  if (result.status === "rejected") throw result.error as DomainError;
  return { replayed: result.status === "replayed", transaction: result.transaction };
}
