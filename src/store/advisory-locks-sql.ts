import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// Transaction-scoped advisory locks, the one spelling of them (decisions §24, §29).
// A lock is a class (one 32-bit key per role, named where the role lives) and a
// text hashed into the second key: a tenant id, or a tenant and a resource.
// Every lock ends with its transaction, so a killed holder's round rolls back with it.

/** Takes the lock `(lock_class, hashtext(key))` for this transaction, or answers false when another holds it. */
export async function tryTransactionLock(tx: Queryable, lock_class: number, key: string): Promise<boolean> {
  assert(Number.isInteger(lock_class), "an advisory lock class is a 32-bit integer");
  const [row] = await tx.query<{ leader: boolean }>(
    "SELECT pg_try_advisory_xact_lock($1::int4, hashtext($2)) AS leader",
    [lock_class, key],
  );
  return row?.leader === true;
}

/** Waits for the lock `(lock_class, hashtext(key))` and holds it until this transaction ends. */
export async function transactionLock(tx: Queryable, lock_class: number, key: string): Promise<void> {
  assert(Number.isInteger(lock_class), "an advisory lock class is a 32-bit integer");
  await tx.query("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))", [lock_class, key]);
}

/** Takes the 64-bit lock `key` for this transaction, or answers false when another holds it. */
export async function tryTransactionLock64(tx: Queryable, key: bigint): Promise<boolean> {
  assert(key >= -(2n ** 63n) && key < 2n ** 63n, "a 64-bit advisory lock key is a signed 64-bit integer");
  const [row] = await tx.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock($1::int8) AS locked", [
    key,
  ]);
  return row?.locked === true;
}
