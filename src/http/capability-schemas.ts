import { component, type JsonSchema } from "./components.ts";

// Component schemas of the capabilities built on the core API (settlement,
// reports, notifications, reconciliation, the ledger's reports): each resource
// named once and referenced by its routes (decisions §21).

const instant = { type: "string", format: "date-time" } as const;
const nullable_instant = { type: ["string", "null"], format: "date-time" } as const;
const nullable_string = { type: ["string", "null"] } as const;
const integer = { type: "integer" } as const;
const text = { type: "string" } as const;

function object(description: string, properties: JsonSchema, required: string[] = []): JsonSchema {
  // Open: a schema-driven serializer keeps fields the service adds later.
  return { type: "object", description, required, properties, additionalProperties: true };
}

export const payout_schema = component(
  "Payout",
  object(
    "A transfer to a party for one settlement cycle: in transit, paid out, failed, carried over or netted.",
    {
      id: text,
      party_id: text,
      currency: text,
      state: { enum: ["in_transit", "paid_out", "failed", "carried_over", "netted"] },
      amount_minor: integer,
      netted_minor: integer,
      eligible_minor: integer,
      minimum_payout_minor: integer,
      cycle_key: text,
      run_id: nullable_string,
      run_date: text,
      period_start: nullable_instant,
      period_end: nullable_instant,
      reference: text,
      payout_account_ref: {
        ...nullable_string,
        description: "Masked unless the caller is platform_admin or finance",
      },
      transaction_id: nullable_string,
      result_transaction_id: nullable_string,
      failure_reason: nullable_string,
      provider_reference: nullable_string,
      created_at: instant,
      resolved_at: nullable_instant,
    },
    ["id", "party_id", "currency", "state", "amount_minor", "reference", "created_at"],
  ),
);

const payout_summary = {
  type: "object",
  properties: { party_id: text, currency: text, amount_minor: integer, netted_minor: integer },
} as const;

export const settlement_run_schema = component(
  "SettlementRun",
  object(
    "What one settlement run paid, carried over or replayed, with totals per currency.",
    {
      run_id: text,
      run_date: text,
      as_of: instant,
      parties_due: integer,
      paid: { type: "array", items: payout_summary },
      carried_over: { type: "array", items: payout_summary },
      replayed: { type: "array", items: payout_summary },
      nothing_due: { type: "array", items: text },
      totals: {
        type: "object",
        additionalProperties: {
          type: "object",
          properties: { amount_minor: integer, netted_minor: integer, payouts: integer },
        },
      },
    },
    ["run_id", "run_date", "as_of", "paid", "totals"],
  ),
);

export const payout_file_schema = component(
  "PayoutFile",
  object("A run's generic bank-transfer file with its checksum.", {}),
);

export const party_settlement_schema = component(
  "PartySettlement",
  object("A party's settlement status: balances by step, profile, payouts by state, recent payouts.", {
    party_id: text,
  }),
);

export const order_settlement_schema = component(
  "OrderSettlement",
  object(
    "An order's settlement status per party: held → releasable → available → in_transit → paid_out.",
    {
      order_id: text,
      parties: {
        type: "array",
        items: {
          type: "object",
          properties: {
            party_id: text,
            state: { enum: ["held", "releasable", "available", "in_transit", "paid_out"] },
            steps: { type: "object", additionalProperties: nullable_instant },
            payout: {
              type: ["object", "null"],
              properties: { id: text, reference: text, state: text },
            },
          },
        },
      },
    },
    ["order_id", "parties"],
  ),
);

export const trial_balance_schema = component(
  "TrialBalance",
  object(
    "Σ of all balances per currency (always zero) and every account whose balance differs from its postings.",
    {
      balanced: { type: "boolean" },
      currencies: {
        type: "array",
        items: { type: "object", properties: { currency: text, total_minor: integer } },
      },
      mismatches: {
        type: "array",
        items: {
          type: "object",
          properties: { account_id: text, balance_minor: integer, postings_minor: integer },
        },
      },
    },
    ["balanced", "currencies", "mismatches"],
  ),
);

export const reconciliation_import_schema = component(
  "ReconciliationImport",
  object("A payment provider's bill, imported and matched against the ledger.", {
    import_id: text,
    replayed: { type: "boolean" },
    report: { type: "object" },
    counts: { type: "object", additionalProperties: integer },
  }),
);

export const report_schema = component(
  "Report",
  object("A report in JSON: its title, period, parameters and tables of typed columns.", {}),
);

export const saved_report_schema = component(
  "SavedReport",
  object(
    "A custom report definition, optionally scheduled; its runs are kept as files.",
    {
      id: text,
      name: text,
      owner: text,
      party_id: nullable_string,
      shared: { type: "boolean" },
      definition: { type: "object" },
      schedule: nullable_string,
      schedule_format: nullable_string,
      next_run_at: nullable_instant,
      created_at: instant,
    },
    ["id", "name", "owner", "definition", "created_at"],
  ),
);

export const report_run_schema = component(
  "ReportRun",
  object(
    "A file a saved report's schedule produced.",
    {
      id: text,
      period_from: instant,
      period_to: instant,
      format: text,
      content_type: text,
      sha256: text,
      created_at: instant,
    },
    ["id", "format", "sha256", "created_at"],
  ),
);

export const simulation_schema = component(
  "PolicySimulation",
  object("A draft policy replayed over past orders: what each party would have got instead.", {}),
);

export const inbox_item_schema = component(
  "InboxItem",
  object(
    "A notification in a user's inbox, with the e-mail made for the same event.",
    {
      id: text,
      type: text,
      title: text,
      body: text,
      data: {},
      event_id: nullable_string,
      event_seq: { type: ["integer", "null"] },
      created_at: instant,
      read_at: nullable_instant,
      email: {
        type: ["object", "null"],
        properties: { status: text, eml_file: nullable_string, last_error: nullable_string },
      },
    },
    ["id", "type", "title", "body", "created_at", "read_at"],
  ),
);

export const inbox_page_schema = component(
  "InboxPage",
  object(
    "A page of the caller's inbox, newest first, with its unread count.",
    {
      items: { type: "array", items: inbox_item_schema },
      next_cursor: nullable_string,
      unread_count: integer,
    },
    ["items", "next_cursor"],
  ),
);

export const inbox_read_schema = component("InboxReadResult", object("What marking read changed.", {}));

export const preferences_schema = component(
  "NotificationPreferences",
  object(
    "The caller's language and, per event type, how it is told.",
    {
      language: text,
      email: nullable_string,
      preferences: {
        type: "array",
        items: {
          type: "object",
          properties: {
            event_type: text,
            delivery: text,
            default: text,
            overridden: { type: "boolean" },
          },
        },
      },
    },
    ["language", "preferences"],
  ),
);

export const test_notification_schema = component(
  "TestNotification",
  object("What a test notification made.", {
    inbox_item_id: nullable_string,
    email_id: nullable_string,
    delivery_id: nullable_string,
  }),
);

export const notification_status_schema = component(
  "NotificationStatus",
  object("Dispatcher backlog per channel, webhook queue, and mail queue with the last SMTP error.", {
    latest_seq: integer,
    channels: { type: "array", items: { type: "object" } },
    webhooks: { type: "object" },
    email: { type: "object" },
  }),
);

export const event_type_schema = component(
  "EventType",
  object("An event type: who is told by default, and whether webhooks may subscribe.", {
    type: text,
    webhook: { type: "boolean" },
    platform_roles: { type: "array", items: text },
    platform_default: text,
    party_default: text,
  }),
);

export const webhook_endpoint_schema = component(
  "WebhookEndpoint",
  object(
    "A Standard Webhooks endpoint and the event types it receives.",
    {
      id: text,
      url: text,
      event_types: { type: "array", items: text },
      party_id: nullable_string,
      description: nullable_string,
      status: { enum: ["enabled", "disabled"] },
      disabled_reason: nullable_string,
      last_sequence: integer,
      previous_secret_expires_at: nullable_instant,
      created_at: instant,
      updated_at: instant,
      secret: { type: "string", description: "Only when created or rotated" },
    },
    ["id", "url", "event_types", "status", "created_at"],
  ),
);

export const webhook_delivery_schema = component(
  "WebhookDelivery",
  object(
    "One message to one endpoint, with every attempt.",
    {
      id: text,
      message_id: text,
      event_id: nullable_string,
      type: text,
      sequence: integer,
      status: text,
      attempts: integer,
      next_attempt_at: nullable_instant,
      last_status_code: { type: ["integer", "null"] },
      last_error: nullable_string,
      created_at: instant,
      finished_at: nullable_instant,
      attempt_log: { type: "array", items: { type: "object" } },
    },
    ["id", "message_id", "type", "status", "attempts", "created_at"],
  ),
);

export const problem_type_schema = component(
  "ProblemType",
  object("An error catalogue entry: its code, HTTP status, title and meaning.", {
    code: text,
    status: integer,
    title: text,
    meaning: text,
  }),
);
