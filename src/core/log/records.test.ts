import { describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.ts";
import { transactionContentHash } from "../ledger/content-hash.ts";
import { journalRecord } from "./records.ts";

// The hot path hashes these records once per booked order; listing their keys
// in canonical order lets canonicalJson use one native JSON.stringify. This
// pins that order, so a new field added out of order fails here, not in a
// benchmark.
describe("records built in canonical key order", () => {
  const transaction = {
    id: "0190a5a0-0000-7000-8000-000000000001",
    kind: "split",
    idempotency_key: "order:A-1:paid",
    effective_at: new Date("2026-01-02T03:04:05.000Z"),
    recorded_at: new Date("2026-01-02T03:04:06.000Z"),
    order_id: "A-1",
    event_id: null,
    policy_hash: "ab".repeat(32),
    hold_id: null,
    memo: null,
    entries: [
      { account_id: "0190a5a0-0000-7000-8000-00000000000a", amount_minor: -100n, currency: "CNY" },
      { account_id: "0190a5a0-0000-7000-8000-00000000000b", amount_minor: 100n, currency: "CNY" },
    ],
  };

  it("journalRecord serialises natively to its canonical form", () => {
    const record = journalRecord(transaction, () => ({ party_id: "m-1", purpose: "held" }));
    expect(JSON.stringify(record)).toBe(canonicalJson(record));
  });

  it("transactionContentHash is unchanged by the order its object is written in", () => {
    const hash = transactionContentHash({
      idempotency_key: "k",
      kind: "split",
      effective_at: transaction.effective_at,
      order_id: "A-1",
      entries: [{ account_id: "a", side: "debit", amount_minor: 5n, currency: "CNY" }],
    });
    // The digest main produced before the builder listed its keys in canonical order.
    expect(hash).toBe("4837a495f91d20b5cdbd1409b450e140b76dc8d52f22b0b5aeee56d56822f9ef");
  });
});
