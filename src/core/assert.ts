// Invariant checks that stay on in production: a broken invariant in a ledger
// must stop the write, never be logged and carried on past.
export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
