// The limits module (issue 13 §4): one place to find a bound, each named with
// its unit (characters for `_length_`, else the noun: rows, entries, bytes, ms,
// days) and the qualifier last. The split's and the ledger's limits are
// re-exported from their modules; the group commit's defaults and the limits of
// audit, settlement, reconciliation, reports, users and keys live here, and the
// HTTP schemas are built from them (decisions §26). The notifications' limits
// still sit beside their code (service/notifications, edited elsewhere now).

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

// Audit: pages, review texts, rules per configuration, the runner's rounds.
export const rules_per_config_max = 64;
export const four_eyes_minor_max = Number.MAX_SAFE_INTEGER;
export const cases_page_max = 200;
export const comment_length_max = 2_000;
export const reason_length_max = 2_000;
export const disputes_page_max = 200;
export const configs_page_max = 200;
export const trail_actions_max = 500;
export const adjustment_entries_max = 20;
export const hits_per_call_max = 1_000;
export const audit_events_per_round_max = 200;

// Settlement
export const lag_days_max = 90;
export const payout_account_ref_length_max = 200;
/** Entries one payout covers at most; older ones first, the rest wait for the next cycle. */
export const entries_per_payout_max = 50_000;
export const parties_per_run_max = 100_000;
export const named_parties_max = 1_000;
export const failure_reason_length_max = 500;
export const payouts_page_max = 200;
export const result_file_bytes_max = 16 * 1024 * 1024;
export const history_page_max = 100;
export const history_page_default = 20;

// Reconciliation
/** Characters in one CSV record of a bill (its physical lines joined). */
export const record_length_max = 1_000_000;
export const mapping_bytes_max = 16_384;
/** The widest date tolerance a caller may ask for. */
export const date_tolerance_ms_max = 7 * 86_400_000;
/** Default: a payment near midnight may sit in the next day's bill, or be stamped minutes apart. */
export const date_tolerance_ms_default = 2 * 3_600_000;
export const rejected_rows_kept_max = 1_000;
export const exact_scale_max = 12;
export const bill_chunk_bytes = 256 * 1024;
export const match_batch_rows = 1_000;
export const exceptions_raised_max = 1_000;
/** Payout rows matched together at the end of an import; any beyond are matched one by one. */
export const payout_rows_max = 10_000;
/** A bill upload's body: the file itself, streamed to a temporary file, never in memory whole. */
export const bill_upload_bytes_max = 64 * 1024 * 1024;
/** Items GET /v1/reconciliation/imports/{id} answers, of one status or of the exceptions. */
export const reconciliation_items_per_read_max = 1_000;
/** Items in one result file; a larger reconciliation is read by status, a page at a time. */
export const result_file_items_max = 200_000;

// Reports
/** Statements read daily aggregates, so they may span years. */
export const statement_days_max = 3_660;
/** Reports that recompute splits order by order read every order in the period. */
export const order_report_days_max = 92;
export const dimensions_max = 4;
export const measures_max = 4;
export const filters_max = 8;
export const saved_reports_per_page_max = 200;
export const due_reports_per_tick_max = 20;
export const audit_report_cases_max = 100_000;
export const report_orders_max = 200_000;
export const fold_rounds_per_tenant_max = 50;
export const custom_groups_max = 100_000;
export const split_orders_per_read_max = 5_000;
export const reconciliation_report_imports_max = 10_000;
export const reconciliation_report_exceptions_max = 100_000;
export const line_proofs_per_page_max = 50;

// Users, keys, sessions
export const users_page_max = 200;
/** The largest page of GET /v1/api-keys. */
export const api_keys_page_max = 500;
/** The largest page of GET /v1/security-events. */
export const security_events_page_max = 200;
export const password_length_min = 12;
export const password_length_max = 256;
export const login_length_max = 254;
