import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { JournalRecord } from "../core/log/records.ts";
import { hashedRecord, newDisclosureSeeds } from "../service/tlog/record-disclosure.ts";
import { recordSha256 } from "../service/tlog/record-enqueue.ts";

// What selective disclosure adds to booking, in CPU per order: hashing a
// journal record as the log commits to it (header plus one salted commitment
// per party) against hashing the record whole, as the log did before issue 12.
// Run: npx tsx src/bench/disclosure-cost.ts [--records N] [--parties P]
// Not a test: it prints µs per record for both, alternating rounds.

const { values } = parseArgs({
  options: { records: { type: "string", default: "50000" }, parties: { type: "string", default: "7" } },
});
const records_total = Number(values.records);
const parties_count = Number(values.parties);

function sampleRecord(index: number): JournalRecord {
  const entries: JournalRecord["entries"] = [];
  // A B2B2C booking: the buyer's payment into held, then one held leg per party.
  entries.push({
    account_id: `acct-psp-clearing-${index % 3}`,
    amount_minor: -274200,
    currency: "CNY",
    party_id: "platform",
    purpose: "clearing",
  });
  for (let party = 0; party < parties_count; party++)
    entries.push({
      account_id: `018f${String(party).padStart(4, "0")}-7a00-7000-8000-${String(index % 1000).padStart(12, "0")}`,
      amount_minor: 10_000 + party * 137,
      currency: "CNY",
      party_id: `party-${party}`,
      purpose: party % 2 === 0 ? "held" : "held_fee",
    });
  return {
    effective_at: "2026-12-07T12:00:00.000Z",
    entries,
    event_id: `018f0000-7a00-7000-8000-${String(index).padStart(12, "0")}`,
    id: `018f0000-7a00-7000-9000-${String(index).padStart(12, "0")}`,
    kind: "order_booked",
    memo: null,
    order_id: `ORD-${index}`,
    policy_hash: "sha256:5d1f0c4e9a2b",
    recorded_at: "2026-12-07T12:00:00.001Z",
    type: "journal_transaction",
  };
}

const records = Array.from({ length: records_total }, (_, index) => sampleRecord(index));
const run = (disclose: boolean): number => {
  const started = process.cpuUsage();
  const salts = randomBytes(16 * records.length);
  const seeds = disclose ? newDisclosureSeeds(records.length) : null;
  let checksum = 0;
  for (let index = 0; index < records.length; index++) {
    const salt = salts.subarray(index * 16, (index + 1) * 16);
    const hashed = hashedRecord("journal_transaction", records[index], seeds === null ? null : seeds[index]!);
    checksum ^= recordSha256(salt, hashed)[0]!;
  }
  const used = process.cpuUsage(started);
  if (checksum === -1) console.log("unreachable");
  return (used.user + used.system) / records.length;
};
run(true);
run(false);
const whole: number[] = [];
const committed: number[] = [];
for (let round = 0; round < 5; round++) {
  committed.push(run(true));
  whole.push(run(false));
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
console.log(
  `record hashed whole            ${median(whole).toFixed(1)} µs/record (rounds ${whole.map((v) => v.toFixed(1)).join(", ")})`,
);
console.log(
  `record with party commitments  ${median(committed).toFixed(1)} µs/record (rounds ${committed.map((v) => v.toFixed(1)).join(", ")})`,
);
console.log(
  `selective disclosure adds      ${(median(committed) - median(whole)).toFixed(1)} µs per booked order (${parties_count} parties)`,
);
