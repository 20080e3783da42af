// Statements of one transaction issued together, without awaiting each in
// turn, travel to PostgreSQL in one flight (postgres.js pipelines queries on
// the transaction's connection, in the order they were issued) and cost one
// round trip instead of one each. PGlite runs them one after another.

/**
 * Waits for every statement, then throws the first failure. All are awaited
 * first: a statement after a failed one fails too (the transaction is
 * aborted), and none of those rejections may go unhandled.
 */
export async function pipelined(statements: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(statements);
  for (const outcome of settled) if (outcome.status === "rejected") throw outcome.reason;
}
