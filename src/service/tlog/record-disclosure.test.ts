import { describe, expect, it } from "vitest";
import type { JournalRecord } from "../../core/log/records.ts";
import {
  commitJournalRecord,
  committedJournalRecord,
  disclosure_seed_bytes,
  newDisclosureSeeds,
} from "./record-disclosure.ts";

const record: JournalRecord = {
  effective_at: "2026-11-20T08:00:00.000Z",
  entries: [
    { account_id: "a-1", amount_minor: -1000, currency: "CNY", party_id: "platform", purpose: "clearing" },
    { account_id: "a-2", amount_minor: 900, currency: "CNY", party_id: "m-2", purpose: "held" },
    { account_id: "a-3", amount_minor: 100, currency: "CNY", party_id: "platform", purpose: "held" },
  ],
  event_id: null,
  id: "0190c0de-0000-7000-8000-000000000001",
  kind: "split",
  memo: null,
  order_id: "O-1",
  policy_hash: null,
  recorded_at: "2026-11-20T08:00:01.000Z",
  type: "journal_transaction",
};

describe("record disclosure", () => {
  it("commits the same record whether or not the disclosures are built", () => {
    for (const seed of newDisclosureSeeds(8)) {
      expect(seed).toHaveLength(disclosure_seed_bytes);
      expect(committedJournalRecord(record, seed)).toEqual(commitJournalRecord(record, seed).committed);
    }
  });

  it("gives every record its own seed, and the commitments depend on it", () => {
    const seeds = newDisclosureSeeds(3);
    expect(new Set(seeds.map((seed) => seed.toString("hex"))).size).toBe(3);
    const [a, b] = seeds;
    expect(committedJournalRecord(record, a!).party_commitments).not.toEqual(
      committedJournalRecord(record, b!).party_commitments,
    );
    expect(committedJournalRecord(record, a!).party_commitments).toHaveLength(2);
  });
});
