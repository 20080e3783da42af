// The closed catalogue of error codes: every code the API or the CLI can
// answer with, its one HTTP status, a short title and a one-line meaning.
// `DomainError` and the HTTP layer's `problem()` are typed by `ErrorCode`, so
// a code that is not listed here does not compile, and the status of a code is
// read from here and nowhere else (decisions §20).
//
// The status rule: 400 the request is malformed (syntax, schema, a field's
// form); 401 no valid credentials; 403 credentials that may not do this; 404
// no such resource, also for another party's resource; 409 a state or
// idempotency conflict; 408, 414 and 431 the HTTP layer's own limits (a slow
// request, a long URI, large headers); 413 too large; 415 not JSON; 422 well-formed but
// semantically invalid (an unknown party, a policy that does not apply, money
// that does not add up); 429 too many; 5xx only for the server's own faults.
//
// `reserved` marks a code that nothing produces yet, with what it is kept for;
// a test fails on an entry that is neither produced nor reserved.
// docs/errors.md is generated from this table (`npm run docs:errors`), and a
// test fails when the two differ.

export interface ErrorEntry {
  readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 413 | 414 | 415 | 422 | 429 | 431 | 500 | 503;
  readonly title: string;
  readonly meaning: string;
  readonly reserved?: string;
}

export const error_catalogue = {
  // Request shape (400)
  request_invalid: {
    status: 400,
    title: "Request invalid",
    meaning: "The request does not match the route's schema; `field` names the first offending part.",
  },
  json_invalid: { status: 400, title: "JSON invalid", meaning: "The request body is not well-formed JSON." },
  field_invalid: {
    status: 400,
    title: "Field invalid",
    meaning: "A field has a value of the right type but the wrong form; the message says what it must be.",
  },
  field_not_array: {
    status: 400,
    title: "Field is not an array",
    meaning: "A field that must be a JSON array is something else.",
  },
  field_not_boolean: {
    status: 400,
    title: "Field is not a boolean",
    meaning: "A field that must be true or false is something else.",
  },
  field_not_integer: {
    status: 400,
    title: "Field is not an integer",
    meaning: "A field that must be a whole number is something else.",
  },
  field_not_object: {
    status: 400,
    title: "Field is not an object",
    meaning: "A field that must be a JSON object is something else.",
  },
  field_not_string: {
    status: 400,
    title: "Field is not a string",
    meaning: "A field that must be a string is something else.",
  },
  field_out_of_range: {
    status: 400,
    title: "Field out of range",
    meaning: "A numeric field lies outside its named limits.",
  },
  field_too_long: {
    status: 400,
    title: "Field too long",
    meaning: "A string or list field is longer than its named limit.",
  },
  field_unknown: {
    status: 400,
    title: "Field unknown",
    meaning: "The body names a field this resource does not have (a typo is refused, not ignored).",
  },
  limit_invalid: {
    status: 400,
    title: "Limit invalid",
    meaning: "`limit` is not a whole number from 1 to the route's page maximum.",
  },
  days_invalid: {
    status: 400,
    title: "Days invalid",
    meaning: "`days` (the dashboard's period) is not a whole number from 1 to 366.",
  },
  cursor_invalid: {
    status: 400,
    title: "Cursor invalid",
    meaning: "`cursor` is not a cursor this list returned; pass `next_cursor` back unchanged.",
  },
  idempotency_key_invalid: {
    status: 400,
    title: "Idempotency key invalid",
    meaning: "The Idempotency-Key header or `idempotency_key` field is empty or too long.",
  },
  last_event_id_invalid: {
    status: 400,
    title: "Last-Event-ID invalid",
    meaning: "The Last-Event-ID header is not a sequence number this stream sent.",
  },
  amount_invalid: {
    status: 400,
    title: "Amount invalid",
    meaning: "An amount is not a decimal string or integer in minor units.",
  },
  amount_precision: {
    status: 400,
    title: "Amount has too many decimals",
    meaning: "A major-unit amount has more decimal places than its currency allows.",
  },
  amount_not_positive: {
    status: 400,
    title: "Amount not positive",
    meaning: "An amount that must be greater than zero is zero or negative.",
  },
  amount_too_large: {
    status: 400,
    title: "Amount too large",
    meaning: "An amount exceeds the largest amount the ledger accepts.",
  },
  currency_invalid: {
    status: 400,
    title: "Currency invalid",
    meaning: "A currency is not a supported ISO 4217 code.",
  },
  email_invalid: { status: 400, title: "Email invalid", meaning: "The login is not an email address." },
  password_invalid: {
    status: 400,
    title: "Password invalid",
    meaning: "The password is shorter or longer than the allowed length.",
  },
  name_invalid: { status: 400, title: "Name invalid", meaning: "A name is empty or longer than its limit." },
  reason_invalid: {
    status: 400,
    title: "Reason invalid",
    meaning: "A revocation reason is longer than its limit.",
  },
  expires_at_invalid: {
    status: 400,
    title: "Expiry invalid",
    meaning: "`expires_at` is not an RFC 3339 UTC timestamp.",
  },
  role_invalid: {
    status: 400,
    title: "Role invalid",
    meaning: "The role is not one of the roles this API knows.",
  },
  scope_invalid: {
    status: 400,
    title: "Scope invalid",
    meaning: "A policy assignment scope is not tenant, merchant or category.",
  },
  scope_value_invalid: {
    status: 400,
    title: "Scope value invalid",
    meaning: "A merchant or category assignment has no scope value.",
  },
  return_window_invalid: {
    status: 400,
    title: "Return window invalid",
    meaning: "`return_window_ms` is outside 0 to its named maximum.",
  },
  size_invalid: {
    status: 400,
    title: "Tree size invalid",
    meaning: "A consistency proof's `from`/`to` sizes are out of order or below 1.",
  },
  tenant_id_invalid: {
    status: 400,
    title: "Tenant id invalid",
    meaning: "A tenant id is not 1 to 63 lowercase letters, digits or dashes.",
  },
  party_id_invalid: {
    status: 400,
    title: "Party id invalid",
    meaning: "A party id is empty, too long or uses characters outside the allowed set.",
  },
  party_kind_invalid: {
    status: 400,
    title: "Party kind invalid",
    meaning: "The party kind is not one of the kinds the ledger knows.",
  },
  party_name_invalid: {
    status: 400,
    title: "Party name invalid",
    meaning: "The party's display name is empty or too long.",
  },
  party_required: {
    status: 400,
    title: "Party required",
    meaning: "A party-scoped role was given without the party it is scoped to.",
  },
  party_not_allowed: {
    status: 400,
    title: "Party not allowed",
    meaning: "A tenant-wide role was given a party; omit `party_id`.",
  },
  account_purpose_invalid: {
    status: 400,
    title: "Account purpose invalid",
    meaning: "The account purpose is not one of the purposes the ledger knows.",
  },
  kind_invalid: {
    status: 400,
    title: "Transaction kind invalid",
    meaning: "A transaction kind is not a short snake_case word.",
  },
  side_invalid: {
    status: 400,
    title: "Entry side invalid",
    meaning: "An entry side is neither debit nor credit.",
  },
  memo_too_long: {
    status: 400,
    title: "Memo too long",
    meaning: "A transaction memo is longer than its limit.",
  },
  entries_count_invalid: {
    status: 400,
    title: "Entry count invalid",
    meaning: "A transaction has fewer than two or more than the maximum entries.",
  },
  covered_invalid: {
    status: 400,
    title: "Covered flag invalid",
    meaning: "`covered` was set on an entry that is not a debit.",
  },
  order_lines_empty: {
    status: 400,
    title: "Order has no lines",
    meaning: "An order must have at least one line.",
  },
  line_qty_not_positive: {
    status: 400,
    title: "Line quantity not positive",
    meaning: "A line's quantity is zero or negative.",
  },
  line_id_duplicate: {
    status: 400,
    title: "Line id repeated",
    meaning: "Two lines of one order share a line id.",
  },
  line_supplier_incomplete: {
    status: 400,
    title: "Line supplier incomplete",
    meaning: "A line names a supplier without its cost, or a cost without its supplier.",
  },
  referrer_duplicate: {
    status: 400,
    title: "Referrer repeated",
    meaning: "Both referral levels name the same party.",
  },
  refund_shape: {
    status: 400,
    title: "Refund shape invalid",
    meaning: "A refund must give either lines or `amount_minor`, not both or neither.",
  },
  policy_rule_duplicate: {
    status: 400,
    title: "Policy rule repeated",
    meaning: "A policy defines the same rule kind twice where only one is allowed.",
  },
  policy_rule_id_duplicate: {
    status: 400,
    title: "Policy rule id repeated",
    meaning: "Two rules of one policy share an id.",
  },
  policy_tier_duplicate: {
    status: 400,
    title: "Policy tier repeated",
    meaning: "Two tiers of a tiered rate start at the same threshold.",
  },
  // Authentication and authorisation (401, 403)
  unauthorized: {
    status: 401,
    title: "Unauthorized",
    meaning: "No valid API key or session was sent, or the login failed.",
  },
  forbidden: { status: 403, title: "Forbidden", meaning: "The caller's role may not use this route." },
  csrf_rejected: {
    status: 403,
    title: "Cross-site request refused",
    meaning: "A session write came without a matching CSRF token or from a foreign origin.",
  },
  // Not found (404): also for another party's resource, so existence is not leaked
  not_found: { status: 404, title: "Not found", meaning: "No route answers this method and path." },
  account_not_found: {
    status: 404,
    title: "Account not found",
    meaning: "No account with this id is visible to the caller.",
  },
  api_key_not_found: {
    status: 404,
    title: "API key not found",
    meaning: "No API key with this id is visible to the caller.",
  },
  checkpoint_not_found: {
    status: 404,
    title: "Checkpoint not found",
    meaning: "The log has no checkpoint of this size.",
  },
  hold_not_found: {
    status: 404,
    title: "Hold not found",
    meaning: "No hold with this id is visible to the caller.",
  },
  completed_at_invalid: {
    status: 422,
    title: "completed_at invalid",
    meaning:
      "A completion's `completed_at` is not an RFC 3339 time, is before the order's `paid_at`, or is more than 5 minutes past the server's clock.",
  },
  order_not_found: {
    status: 404,
    title: "Order not found",
    meaning: "No order with this id is visible to the caller.",
  },
  party_not_found: {
    status: 404,
    title: "Party not found",
    meaning: "No party with this id is visible to the caller.",
  },
  policy_not_found: {
    status: 404,
    title: "Policy not found",
    meaning: "No policy with this id or version exists in this tenant.",
  },
  record_not_found: {
    status: 404,
    title: "Log record not found",
    meaning: "No log record with this id is visible to the caller.",
  },
  tenant_not_found: {
    status: 404,
    title: "Tenant not found",
    meaning: "The log has no tenant with this id.",
  },
  tile_not_found: { status: 404, title: "Tile not found", meaning: "The log has no tile at this path yet." },
  user_not_found: {
    status: 404,
    title: "User not found",
    meaning: "No user with this id or login exists in this tenant.",
  },
  // State and idempotency conflicts (409)
  idempotency_key_conflict: {
    status: 409,
    title: "Idempotency key reused",
    meaning: "This idempotency key was already used for a different request.",
  },
  order_conflict: {
    status: 409,
    title: "Order conflict",
    meaning: "This order id was already booked with different facts.",
  },
  refund_conflict: {
    status: 409,
    title: "Refund conflict",
    meaning: "This refund id was already applied with different facts.",
  },
  party_exists: {
    status: 409,
    title: "Party exists",
    meaning: "A party with this id already exists in this tenant.",
  },
  user_exists: {
    status: 409,
    title: "User exists",
    meaning: "A user with this login already exists in this tenant.",
  },
  account_closed: {
    status: 409,
    title: "Account closed",
    meaning: "The account is closed and takes no new entries.",
  },
  hold_already_posted: {
    status: 409,
    title: "Hold already posted",
    meaning: "The hold was already posted and cannot change.",
  },
  hold_expired: {
    status: 409,
    title: "Hold expired",
    meaning: "The hold expired and can no longer be posted.",
  },
  hold_voided: {
    status: 409,
    title: "Hold voided",
    meaning: "The hold was voided and can no longer be posted.",
  },
  record_not_sequenced: {
    status: 409,
    title: "Record not sequenced yet",
    meaning: "The record is not in a checkpoint yet; retry shortly.",
  },
  policy_published: {
    status: 409,
    title: "Policy already published",
    meaning: "A published policy version cannot be edited; publish a new version.",
    reserved: "the policy editor that changes drafts in place",
  },
  order_fully_refunded: {
    status: 409,
    title: "Order fully refunded",
    meaning:
      "The order was fully refunded or charged back before it was completed; there is nothing left to complete.",
  },
  order_state_invalid: {
    status: 409,
    title: "Order state invalid",
    meaning: "The order is not in a state that allows this operation.",
    reserved: "explicit order state transitions (settlement)",
  },
  // The HTTP edge (src/http/hardening.ts): what the framework or Node's parser would answer itself
  nul_character: {
    status: 400,
    title: "NUL character",
    meaning:
      "A path id, query value, body string or key contains a NUL character (U+0000, %00), which no field accepts.",
  },
  string_not_unicode: {
    status: 400,
    title: "String not Unicode",
    meaning:
      "A body string or key holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape), which is not a Unicode character and cannot be stored as text.",
  },
  json_too_deep: {
    status: 400,
    title: "JSON too deep",
    meaning: "The JSON body nests objects and arrays deeper than the API accepts (64 levels).",
  },
  url_invalid: { status: 400, title: "URL invalid", meaning: "The URL has a malformed %-escape." },
  http_invalid: {
    status: 400,
    title: "HTTP invalid",
    meaning:
      "The request is not well-formed HTTP/1.1 (a malformed request line, an unknown method, bad framing).",
  },
  request_timeout: {
    status: 408,
    title: "Request timeout",
    meaning: "The request was not received completely in time.",
  },
  uri_too_long: {
    status: 414,
    title: "URI too long",
    meaning: "A path parameter is longer than the API accepts.",
  },
  headers_too_large: {
    status: 431,
    title: "Request headers too large",
    meaning: "The request line or headers exceed 16 KB.",
  },
  // Payload too large (413), unsupported media type (415)
  payload_too_large: {
    status: 413,
    title: "Payload too large",
    meaning: "The request body is larger than this route accepts.",
  },
  unsupported_media_type: {
    status: 415,
    title: "Unsupported media type",
    meaning: "The request body is not sent as application/json.",
  },
  // Well-formed but semantically invalid (422)
  party_unknown: {
    status: 422,
    title: "Party unknown",
    meaning:
      "The order names a party that does not exist in this tenant (its merchant or a line's supplier, even one that gets no leg); nothing is written.",
  },
  party_inactive: {
    status: 422,
    title: "Party inactive",
    meaning: "The order names a party that was deactivated (PATCH /v1/parties/{id} status inactive).",
  },
  category_unknown: {
    status: 422,
    title: "Category unknown",
    meaning: "A line's category has no rate in the applicable policy.",
  },
  context_gmv_missing: {
    status: 422,
    title: "GMV context missing",
    meaning: "The policy has a tiered rate that needs the merchant's 30-day GMV.",
  },
  policy_not_assigned: {
    status: 422,
    title: "No policy applies",
    meaning: "No published policy is assigned to this tenant, merchant or category.",
  },
  policy_party_missing: {
    status: 422,
    title: "Policy party missing",
    meaning: "A policy rule needs a party (for example the tax authority) that the policy does not name.",
  },
  policy_rule_missing: {
    status: 422,
    title: "Policy rule missing",
    meaning: "The order needs a rule (for example supplier cost) that the policy lacks.",
  },
  policy_min_above_max: {
    status: 422,
    title: "Policy minimum above maximum",
    meaning: "A rule's per-line minimum is above its maximum.",
  },
  coupon_exceeds_goods: {
    status: 422,
    title: "Coupon exceeds goods",
    meaning: "The coupon is larger than the goods it discounts.",
  },
  line_discount_exceeds_price: {
    status: 422,
    title: "Line discount exceeds price",
    meaning: "A line's discount is larger than its price.",
  },
  psp_fee_exceeds_paid: {
    status: 422,
    title: "PSP fee exceeds payment",
    meaning: "The payment processor's fee is larger than the amount paid.",
  },
  paid_at_out_of_range: {
    status: 422,
    title: "paid_at out of range",
    meaning:
      "The order's paid_at is before 2000-01-01T00:00:00Z or more than 24 hours past the server's clock.",
  },
  order_paid_mismatch: {
    status: 422,
    title: "Paid amount mismatch",
    meaning: "The order's paid amount does not equal its goods, shipping and discounts.",
  },
  order_currency_mismatch: {
    status: 422,
    title: "Order currency mismatch",
    meaning: "The order's currency differs from the policy's or the allocation's.",
  },
  split_cap_exceeded: {
    status: 422,
    title: "Split cap exceeded",
    meaning: "The platform's shares exceed the cap the policy allows.",
  },
  split_merchant_negative: {
    status: 422,
    title: "Merchant share negative",
    meaning: "After every other share, the merchant would receive less than zero.",
  },
  refund_exceeds_paid: {
    status: 422,
    title: "Refund exceeds payment",
    meaning: "The refunds would return more than the order paid.",
  },
  refund_qty_exceeds: {
    status: 422,
    title: "Refund quantity exceeds",
    meaning: "A refund returns more units of a line than remain unrefunded.",
  },
  refund_shipping_exceeds: {
    status: 422,
    title: "Refund shipping exceeds",
    meaning: "A refund returns more shipping than remains unrefunded.",
  },
  refund_line_unknown: {
    status: 422,
    title: "Refund line unknown",
    meaning: "A refund names a line the order does not have.",
  },
  refund_id_duplicate: {
    status: 422,
    title: "Refund already applied",
    meaning: "This refund id was already applied to the order.",
  },
  refunds_too_many: {
    status: 422,
    title: "Too many refunds",
    meaning: "The order already has the maximum number of refunds.",
  },
  refund_allocation_mismatch: {
    status: 422,
    title: "Refund allocation mismatch",
    meaning: "The allocation given belongs to a different order.",
  },
  insufficient_funds: {
    status: 422,
    title: "Insufficient funds",
    meaning: "The account's available balance does not cover the debit.",
  },
  transaction_unbalanced: {
    status: 422,
    title: "Transaction unbalanced",
    meaning: "Debits and credits of a transaction do not sum to the same amount per currency.",
  },
  currency_mismatch: {
    status: 422,
    title: "Currency mismatch",
    meaning: "An entry's currency differs from its account's currency.",
  },
  accounts_must_be_different: {
    status: 422,
    title: "Accounts must differ",
    meaning: "A hold's source and destination are the same account.",
  },
  expires_at_in_past: {
    status: 422,
    title: "Expiry in the past",
    meaning: "`expires_at` is not in the future.",
  },
  hold_amount_exceeded: {
    status: 422,
    title: "Hold amount exceeded",
    meaning: "The posted amount is more than the hold reserves.",
  },
  record_kind_unsupported: {
    status: 422,
    title: "Record kind unsupported",
    meaning: "Records of this kind cannot be rebuilt for a proof yet.",
  },
  // Too many requests (429)
  login_locked: {
    status: 429,
    title: "Login locked",
    meaning: "Too many failed logins for this account or address; wait and retry.",
  },
  rate_limited: {
    status: 429,
    title: "Rate limited",
    meaning: "The caller sent too many requests; wait and retry.",
  },
  // Server side (5xx): never the client's fault, never a partial write
  internal_error: {
    status: 500,
    title: "Internal error",
    meaning: "The server could not complete the request; nothing was written.",
  },
  record_integrity_failed: {
    status: 500,
    title: "Record integrity failed",
    meaning: "A stored record no longer matches the log; the operator must run `clearsplit verify db`.",
  },
  not_ready: {
    status: 503,
    title: "Not ready",
    meaning:
      "The database is not reachable, or its migrations are running or pending; the server is not ready.",
  },
  database_unavailable: {
    status: 503,
    title: "Database unavailable",
    meaning:
      "The database connection was lost during the request; nothing was written, retry (with the same Idempotency-Key).",
  },
  stream_full: {
    status: 503,
    title: "Stream capacity reached",
    meaning: "Too many live event streams on this server; retry shortly.",
  },
  // Notifications (docs/notifications.md)
  inbox_item_not_found: {
    status: 404,
    title: "Inbox item not found",
    meaning: "No inbox item with this id belongs to the caller.",
  },
  webhook_endpoint_not_found: {
    status: 404,
    title: "Webhook endpoint not found",
    meaning: "No webhook endpoint with this id is visible to the caller.",
  },
  webhook_delivery_not_found: {
    status: 404,
    title: "Webhook delivery not found",
    meaning: "No webhook delivery with this id is visible to the caller.",
  },
  webhook_endpoint_disabled: {
    status: 409,
    title: "Webhook endpoint disabled",
    meaning: "The endpoint is disabled; enable it before redelivering to it.",
  },
  webhook_endpoints_too_many: {
    status: 409,
    title: "Too many webhook endpoints",
    meaning: "The tenant already has the most webhook endpoints allowed.",
  },
  webhook_url_invalid: {
    status: 400,
    title: "Webhook URL invalid",
    meaning: "The URL is not an absolute http(s) URL without credentials or fragment.",
  },
  webhook_url_private: {
    status: 422,
    title: "Webhook URL private",
    meaning:
      "The URL's host is or resolves to a loopback, private or reserved address; webhooks go to public addresses only.",
  },
  event_type_unknown: {
    status: 422,
    title: "Event type unknown",
    meaning:
      "The event type is not one that can be subscribed to or given a preference (GET /v1/event-types).",
  },
  event_types_empty: {
    status: 400,
    title: "No event types",
    meaning: 'A webhook endpoint must subscribe to at least one event type, or "*".',
  },
  event_types_too_many: {
    status: 400,
    title: "Too many event types",
    meaning: "A webhook endpoint lists more event types than allowed.",
  },
  overlap_invalid: {
    status: 400,
    title: "Rotation overlap invalid",
    meaning: "overlap_seconds is out of range for a secret rotation.",
  },
  preferences_too_many: {
    status: 400,
    title: "Too many preferences",
    meaning: "One request sets more notification preferences than allowed.",
  },
  language_invalid: {
    status: 400,
    title: "Language invalid",
    meaning: "The language is not zh-CN, zh-TW or en.",
  },
  delivery_invalid: {
    status: 400,
    title: "Delivery invalid",
    meaning: "A preference's delivery is not inbox, email, both, digest or none.",
  },
  user_required: {
    status: 403,
    title: "User required",
    meaning: "Notification preferences belong to console users; an API key has none.",
  },
  // Audit (docs/audit.md)
  order_blocked_by_case: {
    status: 409,
    title: "Order held by an audit case",
    meaning: "An open audit case holds this order's funds; decide the case (listed in `case_ids`) first.",
  },
  case_not_found: {
    status: 404,
    title: "Case not found",
    meaning: "No audit case with this id is visible to the caller.",
  },
  case_closed: {
    status: 409,
    title: "Case closed",
    meaning: "The case is already approved, reversed or adjusted; it takes no more claims or decisions.",
  },
  case_claimed: {
    status: 409,
    title: "Case claimed",
    meaning: "Another reviewer has claimed the case; its first decision is theirs.",
  },
  case_self_review: {
    status: 403,
    title: "Own case",
    meaning:
      "The case is about the caller's own action (a flag they raised, their dispute); another reviewer must decide it.",
  },
  case_nothing_to_reject: {
    status: 409,
    title: "Nothing to reject",
    meaning: "Reject refuses a first decision awaiting its second approval, and this case has none.",
  },
  case_order_released: {
    status: 409,
    title: "Order already released",
    meaning:
      "The order was released before the case opened, so its split cannot be reversed from held; use adjust.",
  },
  four_eyes_same_person: {
    status: 409,
    title: "Same person",
    meaning:
      "The same person made the first decision; a different person must make the second, whatever credential is used.",
  },
  four_eyes_person_required: {
    status: 403,
    title: "Person required",
    meaning: "A decision above the four-eyes threshold needs a person: this API key was issued to no user.",
  },
  four_eyes_decision_mismatch: {
    status: 409,
    title: "Decision differs",
    meaning: "The second decision must confirm the first one (the same decision) or reject it.",
  },
  decision_invalid: {
    status: 422,
    title: "Decision invalid",
    meaning: "The decision does not apply to this case (reverse needs a case on an order).",
  },
  adjustment_invalid: {
    status: 422,
    title: "Adjustment invalid",
    meaning:
      "An adjustment needs 2 to 20 balanced entries in the case's currency; `field` names the first bad one.",
  },
  audit_comment_invalid: {
    status: 400,
    title: "Comment invalid",
    meaning: "A comment is 1 to 2000 characters of text.",
  },
  audit_config_invalid: {
    status: 422,
    title: "Audit configuration invalid",
    meaning:
      "The rule configuration has a bad field or parameter; `field` names it and the message its bounds.",
  },
  audit_rule_unknown: {
    status: 422,
    title: "Unknown rule",
    meaning: "The configuration names a rule id that is not a built-in rule.",
  },
  audit_config_not_found: {
    status: 404,
    title: "Audit configuration not found",
    meaning: "No rule configuration with this id in the caller's tenant.",
  },
  bundle_invalid: {
    status: 422,
    title: "Proof bundle invalid",
    meaning:
      "The attached proof bundle does not verify against this log, or does not concern the disputed order and party.",
  },
  period_invalid: {
    status: 400,
    title: "Period invalid",
    meaning: "A back-test period runs from `from` to a later `to`, at most 366 days.",
  },
  state_invalid: { status: 400, title: "State invalid", meaning: "The state filter is not a case state." },
  api_key_role_mismatch: {
    status: 422,
    title: "Role differs from the user's",
    meaning: "A key issued for a user acts as that user; leave `role` out or send the user's role.",
  },
  api_key_party_mismatch: {
    status: 422,
    title: "Party differs from the user's",
    meaning: "A key issued for a user acts as that user; it cannot name another party.",
  },
  // Reports (docs/reports.md)
  report_unknown: {
    status: 404,
    title: "Report unknown",
    meaning: "No standard report has this name; the message lists the reports there are.",
  },
  report_not_found: {
    status: 404,
    title: "Report not found",
    meaning: "This report is not available to the caller's role (a platform-wide report asked by a party).",
  },
  report_format_invalid: {
    status: 400,
    title: "Report format invalid",
    meaning: "format must be json, csv, xlsx or pdf.",
  },
  report_lang_invalid: {
    status: 400,
    title: "Report language invalid",
    meaning: "lang must be en, zh-CN or zh-TW.",
  },
  report_period_invalid: {
    status: 400,
    title: "Report period invalid",
    meaning: "from and to must be whole UTC days (2026-11-01), with to after from: the period is [from, to).",
  },
  report_period_too_long: {
    status: 422,
    title: "Report period too long",
    meaning: "The period is longer than this report allows (the message names the limit in days).",
  },
  report_party_required: {
    status: 400,
    title: "Report party required",
    meaning: "A statement needs party_id when the caller is not bound to a party.",
  },
  report_currency_unused: {
    status: 422,
    title: "Currency not used by the party",
    meaning: "The party has no accounts in the currency asked; the message lists the ones it uses.",
  },
  report_currency_required: {
    status: 400,
    title: "Report currency required",
    meaning: "The party uses several currencies: name one with currency=.",
  },
  report_too_large: {
    status: 422,
    title: "Report too large",
    meaning:
      "The period holds more orders or rows than one report may; ask for a shorter period or fewer dimensions.",
  },
  report_font_missing: {
    status: 503,
    title: "PDF font missing",
    meaning: "The server has no CJK font for PDFs: install fonts-noto-cjk or set CLEARSPLIT_CJK_FONT.",
  },
  report_definition_invalid: {
    status: 400,
    title: "Report definition invalid",
    meaning:
      "A saved report names an unknown dataset, dimension, measure or filter, or a bad period; `field` says which.",
  },
  saved_report_not_found: {
    status: 404,
    title: "Saved report not found",
    meaning: "No saved report (or run) with this id that the caller may see.",
  },
  settlement_profile_invalid: {
    status: 400,
    title: "Settlement profile invalid",
    meaning:
      "A settlement profile field has the wrong form; `field` names it (cycle, minimum, currency, account).",
  },
  party_status_invalid: {
    status: 400,
    title: "Party status invalid",
    meaning: "A party's status is active, suspended (never paid out) or inactive (named by no new order).",
  },
  party_version_conflict: {
    status: 409,
    title: "Party version conflict",
    meaning: "The party changed since the version the caller read; read it again and resend.",
  },
  as_of_in_future: {
    status: 422,
    title: "As-of in the future",
    meaning: "A settlement run's as_of is later than now: funds not yet released cannot be paid.",
  },
  settlement_parties_too_many: {
    status: 400,
    title: "Too many parties",
    meaning: "A settlement run names more parties than one run may.",
  },
  settlement_run_not_found: {
    status: 404,
    title: "Settlement run not found",
    meaning: "No settlement run with this id.",
  },
  payout_not_found: {
    status: 404,
    title: "Payout not found",
    meaning: "No payout with this id the caller may see.",
  },
  payout_state_invalid: {
    status: 409,
    title: "Payout state invalid",
    meaning:
      "Only a payout in transit can be confirmed or failed; this one is already resolved the other way or not paid.",
  },
  failure_reason_invalid: {
    status: 400,
    title: "Failure reason invalid",
    meaning: "A failed payout needs a reason of 1 to 500 characters.",
  },
  bill_provider_unknown: {
    status: 400,
    title: "Bill provider unknown",
    meaning: "The provider is not one of wechat, wechat-fund, alipay, stripe, adyen, generic.",
  },
  bill_unusable: {
    status: 422,
    title: "Bill unusable",
    meaning:
      "The file cannot be used at all: empty, unreadable, no header of this provider, or a bad column mapping.",
  },
  bill_too_large: {
    status: 413,
    title: "Bill too large",
    meaning: "The file is larger than this route or command accepts.",
  },
  reconciliation_too_large: {
    status: 413,
    title: "Reconciliation too large",
    meaning:
      "The reconciliation has more items than one result file holds; read its items by status instead.",
  },
  date_tolerance_invalid: {
    status: 400,
    title: "Date tolerance invalid",
    meaning: "`date_tolerance_ms` is not a whole number of milliseconds from 0 to 7 days.",
  },
  bill_provider_conflict: {
    status: 409,
    title: "Bill provider conflict",
    meaning: "This file (same SHA-256) was already imported as another provider's bill.",
  },
  reconciliation_not_found: {
    status: 404,
    title: "Reconciliation not found",
    meaning: "No bill import with this id.",
  },
  // Audit (docs/audit.md)
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof error_catalogue;

export const error_codes = Object.keys(error_catalogue) as readonly ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(error_catalogue, value);
}

export function errorEntry(code: ErrorCode): ErrorEntry {
  return error_catalogue[code];
}

/** The path of a code's documentation on the API server; problem `type` URIs point here. */
export function problemTypePath(code: ErrorCode): string {
  return `/problems/${code}`;
}
