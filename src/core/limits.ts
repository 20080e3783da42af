// The limits module (issue 13 §4), begun: one place to find a bound, each named
// with its unit and the qualifier last. The split's and the ledger's limits are
// re-exported from their modules; the group commit's defaults live here.
// Remaining limits still sit beside their code (decisions §21 lists them).

export * from "./ledger/ledger-limits.ts";
export { amount_minor_max } from "./money.ts";
export { cursor_length_max_chars } from "./page.ts";
export * from "./split/split-limits.ts";

/** Orders the group committer takes into one booking transaction, by default. */
export const group_commit_orders_per_batch_default = 256;
/** How long the first order of a group waits for others before it is committed alone. */
export const group_commit_wait_ms_default = 2;
/** Groups of one tenant committing at once: PGlite has one connection, PostgreSQL a pool. */
export const group_commit_inflight_max_pglite = 1;
export const group_commit_inflight_max_postgres = 4;
