// The one list of event types that ClearSplit writes to its outbox (the
// `events` table, in the same transaction as the change). Every writer is
// typed by it (src/service/events/event-enqueue.ts), the notifications
// registry describes each (src/core/notifications/event-types.ts), and
// docs/notifications.md lists them in the same order; a test keeps the three
// and each type's writer in step (src/core/event-types.test.ts).

export interface EventTypeEntry {
  /** What happened, in a few words. */
  meaning: string;
  /** The module (under src/) that writes it, in the transaction of the change. */
  written_by: string;
  /** Fields of the payload; templates may name only these. */
  fields: readonly string[];
  /** Bookkeeping of the dispatcher itself: never told to people, never sent to webhooks. */
  internal?: true;
}

const order_fields = ["order_id", "merchant_id"] as const;
const payout_fields = [
  "payout_id",
  "party_id",
  "currency",
  "amount_minor",
  "netted_minor",
  "state",
  "reference",
  "cycle_key",
  "failure_reason",
] as const;
const case_fields = [
  "case_id",
  "state",
  "rule_ids",
  "kind",
  "order_id",
  "party_id",
  "amount_minor",
  "currency",
] as const;

export const event_type_entries = {
  "order.booked": {
    meaning: "an order is paid and split",
    written_by: "service/orders/book.ts",
    fields: [...order_fields, "currency", "paid_minor", "state"],
  },
  "order.refunded": {
    meaning: "a refund is booked",
    written_by: "service/orders/refund-order.ts",
    fields: ["order_id", "refund_id", "currency", "amount_minor", "before_release"],
  },
  "order.charged_back": {
    meaning: "a chargeback is booked",
    written_by: "service/orders/refund-order.ts",
    fields: ["order_id", "refund_id", "currency", "amount_minor", "before_release"],
  },
  "order.completed": {
    meaning: "an order is completed (its return window starts)",
    written_by: "service/orders/complete.ts",
    fields: [...order_fields, "releasable_at"],
  },
  "order.released": {
    meaning: "held shares are released to available",
    written_by: "service/orders/release.ts",
    fields: order_fields,
  },
  "payout.created": {
    meaning: "a settlement run put a payout in transit",
    written_by: "service/settlement/settle-party.ts",
    fields: payout_fields,
  },
  "payout.carried_over": {
    meaning: "a party's due amount was under its minimum and waits for the next cycle",
    written_by: "service/settlement/settle-party.ts",
    fields: payout_fields,
  },
  "payout.netted": {
    meaning: "a party's due amount went entirely to paying its debt",
    written_by: "service/settlement/settle-party.ts",
    fields: payout_fields,
  },
  "payout.confirmed": {
    meaning: "the bank confirmed a payout",
    written_by: "service/settlement/payouts.ts",
    fields: [...payout_fields, "provider_reference"],
  },
  "payout.failed": {
    meaning: "a payout failed; its funds are available again",
    written_by: "service/settlement/payouts.ts",
    fields: payout_fields,
  },
  "settlement.run_finished": {
    meaning: "a settlement run finished",
    written_by: "service/settlement/settlement-run.ts",
    fields: [
      "run_id",
      "run_date",
      "as_of",
      "parties_due",
      "paid",
      "carried_over",
      "replayed",
      "nothing_due",
      "totals",
    ],
  },
  "reconciliation.exception": {
    meaning: "a bill import found rows that do not match the ledger",
    written_by: "service/reconcile/import.ts",
    fields: ["import_id", "provider", "file_sha256", "exceptions", "counts"],
  },
  "audit.case_opened": {
    meaning: "an audit case was opened (by a rule, by hand, or by a dispute)",
    written_by: "service/audit/hits.ts",
    fields: case_fields,
  },
  "audit.case_decided": {
    meaning: "an audit case was decided (approve, reverse or adjust)",
    written_by: "service/audit/decide-case.ts",
    fields: case_fields,
  },
  "dispute.opened": {
    meaning: "a party opened a dispute on one of its orders",
    written_by: "service/audit/disputes.ts",
    fields: ["dispute_id", ...case_fields],
  },
  "dispute.answered": {
    meaning: "the platform answered a party's dispute",
    written_by: "service/audit/decide-case.ts",
    fields: ["dispute_id", "case_id", "state", "order_id"],
  },
  "report.ready": {
    meaning: "a scheduled report produced its file",
    written_by: "service/reports/saved.ts",
    fields: [
      "report_id",
      "report_name",
      "run_id",
      "period_from",
      "period_to",
      "format",
      "sha256",
      "download",
      "user_ids",
    ],
  },
  "party.updated": {
    meaning: "a party's settlement profile changed",
    written_by: "service/settlement/party-profile.ts",
    fields: ["party_id", "version", "changed", "changed_by"],
  },
  "webhook_endpoint.disabled": {
    meaning: "a webhook endpoint was disabled (by hand or by a 410 Gone)",
    written_by: "service/notifications/webhook-record.ts",
    fields: ["endpoint_id", "url", "reason"],
  },
  "webhook_delivery.dead_lettered": {
    meaning: "a webhook delivery's last scheduled attempt failed",
    written_by: "service/notifications/webhook-record.ts",
    fields: ["delivery_id", "endpoint_id", "message_id", "event_type", "url", "attempts", "last_error"],
  },
  "inbox.item_created": {
    meaning: "an inbox item was made (pushed on the live stream to its user)",
    written_by: "service/notifications/people.ts",
    fields: ["user_id", "item_id", "type", "title"],
    internal: true,
  },
} as const satisfies Record<string, EventTypeEntry>;

export type EventType = keyof typeof event_type_entries;

export const event_type_names = Object.keys(event_type_entries) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && Object.hasOwn(event_type_entries, value);
}
