// The limits module (issue 13 §4): one place to find a bound, each named with
// its unit (characters for `_length_`, else the noun: rows, entries, bytes, ms,
// days) and the qualifier last. The split's and the ledger's limits are
// re-exported from their modules; the group commit's defaults and the limits of
// audit, settlement, reconciliation, reports, users and keys live here, and the
// HTTP schemas are built from them (decisions §26); the notifications' limits
// joined them last (decisions §29).

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

// Policies: the largest page of GET /v1/policies (the one fixed page before issue 13), and its default.
export const policies_page_items_max = 200;
export const policies_page_items_default = 200;

// Audit: pages, review texts, rules per configuration, the runner's rounds.
export const rules_per_config_max = 64;
export const four_eyes_minor_max = Number.MAX_SAFE_INTEGER;
export const cases_page_max = 200;
/** Hits shown with one case. */
export const case_hits_shown_max = 500;
export const comment_length_max = 2_000;
export const reason_length_max = 2_000;
export const disputes_page_max = 200;
export const disputes_page_items_default = 50;
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
/** Users the CLI lists at once. */
export const users_listed_max = 10_000;
/** The largest page of GET /v1/api-keys. */
export const api_keys_page_max = 500;
/** The largest page of GET /v1/security-events. */
export const security_events_page_max = 200;
export const password_length_min = 12;
export const password_length_max = 256;
export const login_length_max = 254;

// Notifications: the inbox's and deliveries' pages, endpoints, recipients, mail, the
// dispatcher's rounds and the webhook sender's claims, leases and sockets.
/** The default and largest page of GET /v1/inbox. */
export const inbox_page_items_default = 50;
export const inbox_page_items_max = 200;
/** The default and largest page of GET /v1/webhook-endpoints/{id}/deliveries. */
export const deliveries_page_items_default = 50;
export const deliveries_page_items_max = 100;
/** Attempts shown with each delivery (the newest are kept in the table). */
export const delivery_attempts_shown_max = 20;
/** Endpoints per tenant, which is also the largest page of GET /v1/webhook-endpoints. */
export const endpoints_per_tenant_max = 100;
export const event_types_per_endpoint_max = 50;
export const endpoint_description_length_max = 500;
export const webhook_url_length_max = 2_048;
/** How long a rotated-out signing secret still signs, by default and at most. */
export const rotation_overlap_seconds_default = 24 * 3_600;
export const rotation_overlap_seconds_max = 7 * 24 * 3_600;
/** An event type's name at the HTTP edge. An endpoint's filter takes longer names and more of them, so
 * the service, not the schema, names the unknown type or the count (event_types_per_endpoint_max). */
export const event_type_length_max = 64;
export const event_type_filter_length_max = 200;
export const event_type_filters_per_request_max = 1_000;
/** People one tenant's notifications may reach. */
export const recipients_per_tenant_max = 10_000;
/** Event types in one PUT /v1/notifications/preferences. */
export const preferences_per_request_max = 100;
export const notification_title_length_max = 300;
export const notification_body_length_max = 4_000;
/** The latest a retry schedule may wait, and how many tries it may list. */
export const retry_after_ms_max = 24 * 3_600_000;
export const retry_schedule_length_max = 20;
/** The dispatcher's tick, and the rounds it runs back to back while behind. */
export const dispatcher_interval_ms_default = 200;
export const dispatcher_catch_up_rounds_max = 50;
/** How long a round goes on sending webhooks after its fan-out is done, before it returns. */
export const dispatcher_round_send_ms_max = 5_000;
/** Events one fan-out batch reads from the stream. */
export const dispatch_events_per_batch_max = 1_000;
/** One webhook request's time to answer, and the part of its answer kept. */
export const webhook_timeout_ms = 15_000;
export const webhook_response_bytes_max = 4_096;
/**
 * Kept-alive connections per webhook origin: 32 sending one request at a time each (the default), or
 * 8 when requests are pipelined (CLEARSPLIT_WEBHOOK_PIPELINING, 2 to 64 per connection; decisions §37).
 */
export const webhook_sockets_per_origin_max = 32;
export const webhook_sockets_per_origin_pipelined = 8;
export const webhook_requests_per_socket_default = 1;
export const webhook_requests_per_socket_max = 64;
/** Deliveries one claim leases. */
export const webhook_deliveries_per_claim_max = 256;
/** Claimed batches being sent or recorded at once in a pass. */
export const webhook_claims_in_flight_max = 4;
/** A pass stops claiming after this long, so the dispatcher's other work gets its turn. */
export const webhook_send_pass_ms_max = 2_000;
/** How long a claimed delivery is the claimer's before another process may send it again. */
export const webhook_lease_ms_default = 60_000;
/** Mails one round sends, items one digest lists, and how long and often a failing mail is retried. */
export const mails_per_round_max = 50;
export const digest_items_max = 500;
export const email_attempts_max = 12;
export const email_backoff_ms_max = 3_600_000;
export const smtp_timeout_ms = 10_000;

// Texts and numbers the older HTTP schemas spelled as literals (decisions §32): the schema, the
// service's check and the column now read the same name.
/** A display name: of a party, a policy, an API key, an audit configuration or a payout schedule. */
export const name_length_max = 200;
/** A tenant id: 1 to 63 lowercase letters, digits or dashes. */
export const tenant_id_length_max = 63;
/** A path parameter that names a resource by UUID (36 characters), code, ref or kind. */
export const path_param_length_max = 64;
/** An audit rule's id, in a configuration or as a filter. */
export const rule_id_length_max = 64;
/** An account purpose (`available`, `in_transit`, …) as a filter. */
export const purpose_length_max = 32;
/** An ISO 4217 currency code. */
export const currency_code_length_max = 3;
/** A report's `format` (json, csv, xlsx, pdf) or `lang` (en, zh-CN, zh-TW) as a query value. */
export const report_option_length_max = 8;
/** The reference a payment provider gives a payout it executed. */
export const provider_reference_length_max = 200;
/** The days of a daily payout cycle (`cycle_days` of a party's settlement profile). */
export const cycle_days_max = 365;
/** A policy's return window: at most a leap year. */
export const return_window_ms_max = 366 * 24 * 3_600_000;

/**
 * The server's old generation grows to at most (1 + this/100) times what its last full collection left
 * alive before the next one (`CLEARSPLIT_HEAP_GROWING_PERCENT`, 0 for V8's own factor of up to 4); decisions §33.
 */
export const heap_growing_percent_default = 50;
/** The most `CLEARSPLIT_HEAP_GROWING_PERCENT` may be: V8's own largest factor is 4 (300%). */
export const heap_growing_percent_max = 300;

/**
 * On Citus, the per-tenant statements a background round (which tenants have events to number,
 * consumers behind, leaves to fold) keeps in flight at once: each runs on its tenant's worker, so a
 * round costs about its tenants ÷ this many round trips, not one per tenant (issue 20). Bounded below
 * the pool's 10 connections so that requests keep theirs.
 */
export const citus_tenant_probes_in_flight_max = 4;
