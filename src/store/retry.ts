import type { Database, Queryable } from "./database.ts";

// PostgreSQL asks the client to retry these; they are never the caller's fault.
const retryable_codes = new Set(["40001", "40P01"]);
const attempts_max = 12;

/** Thrown by a transaction body that saw a concurrent writer win a race and must start over. */
export class RetryTransaction extends Error {
  override name = "RetryTransaction";
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryTransaction) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && retryable_codes.has(code);
}

/** Runs `fn` in a transaction, re-running it from the start on deadlock, serialisation failure or a lost race. */
export async function inTransaction<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts_max) throw error;
      const backoff_ms = Math.min(100, 2 ** attempt) * Math.random();
      await new Promise((resolve) => setTimeout(resolve, backoff_ms));
    }
  }
}
