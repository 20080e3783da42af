import { describe, expect, it } from "vitest";
import { decideBatch } from "./decide.ts";
import type { Account, TransactionRequest } from "./types.ts";
import { validateTransactionRequest } from "./validate.ts";

const held: Account = {
  id: "held",
  party_id: "m-1",
  purpose: "held",
  currency: "CNY",
  allow_negative: false,
  bucket_count: 16,
  status: "open",
};
const available: Account = { ...held, id: "available", purpose: "available", bucket_count: 1 };
const accounts = new Map([
  [held.id, held],
  [available.id, available],
]);

function move(amount_minor: bigint, covered: boolean): TransactionRequest {
  return {
    idempotency_key: `k${amount_minor}${covered}`,
    kind: "release",
    entries: [
      {
        account_id: "held",
        side: "debit",
        amount_minor,
        currency: "CNY",
        ...(covered ? { covered: true } : {}),
      },
      { account_id: "available", side: "credit", amount_minor, currency: "CNY" },
    ],
  };
}

describe("decideBatch and covered debits", () => {
  it("checks an ordinary debit against the locked balance and refuses an overdraft", () => {
    const [decision] = decideBatch([move(50n, false)], accounts, new Map([["held", 40n]]));
    expect(decision).toMatchObject({ accepted: false, error: { code: "insufficient_funds" } });
  });

  it("takes a covered debit without a locked balance, and still counts it against later debits", () => {
    const [alone] = decideBatch([move(50n, true)], accounts, new Map());
    expect(alone).toEqual({ accepted: true });
    const balances = new Map([["held", 60n]]);
    const [covered, uncovered] = decideBatch([move(50n, true), move(20n, false)], accounts, balances);
    expect(covered).toEqual({ accepted: true });
    expect(uncovered).toMatchObject({ accepted: false, error: { code: "insufficient_funds" } });
  });

  it("refuses covered on a credit", () => {
    const request = move(5n, false);
    request.entries[1] = { ...request.entries[1]!, covered: true };
    expect(() => validateTransactionRequest(request)).toThrow("entries[1].covered may only mark a debit");
  });
});
