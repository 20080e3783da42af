import { assert } from "../core/assert.ts";
import type { Leg, Order } from "../core/split/index.ts";
import type { Database, Queryable } from "../store/database.ts";
import { inTransaction } from "../store/retry.ts";

// The yardstick: a deliberately ordinary ledger, as most teams would first
// write it, in the bench's own tables of the same database. One transaction per
// order; each balance row read with SELECT … FOR UPDATE (in id order, so
// concurrent orders do not deadlock); one INSERT and one UPDATE per posting;
// the platform's commission is one hot row; synchronous_commit stays on.

export const naive_schema = `
CREATE TABLE IF NOT EXISTS naive_accounts (
  id bigserial PRIMARY KEY,
  party_id text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('held', 'clearing')),
  balance_minor bigint NOT NULL DEFAULT 0,
  UNIQUE (party_id, purpose)
);
CREATE TABLE IF NOT EXISTS naive_transactions (
  id bigserial PRIMARY KEY,
  order_id text NOT NULL UNIQUE,
  paid_minor bigint NOT NULL CHECK (paid_minor > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS naive_postings (
  id bigserial PRIMARY KEY,
  transaction_id bigint NOT NULL REFERENCES naive_transactions (id),
  account_id bigint NOT NULL REFERENCES naive_accounts (id),
  amount_minor bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS naive_postings_transaction ON naive_postings (transaction_id);
`;

export class NaiveLedger {
  private constructor(
    private readonly db: Database,
    private readonly account_ids: ReadonlyMap<string, bigint>,
  ) {}

  /** Creates the tables and one held account per party plus a clearing account per PSP. */
  static async open(
    db: Database,
    party_ids: readonly string[],
    psp_party_ids: readonly string[],
  ): Promise<NaiveLedger> {
    await db.exec(naive_schema);
    const rows = await db.query<{ id: bigint; party_id: string; purpose: string }>(
      `INSERT INTO naive_accounts (party_id, purpose)
       SELECT party_id, purpose FROM unnest($1::text[], $2::text[]) AS t (party_id, purpose)
       ON CONFLICT (party_id, purpose) DO UPDATE SET purpose = EXCLUDED.purpose
       RETURNING id, party_id, purpose`,
      [
        [...party_ids, ...psp_party_ids],
        [...party_ids.map(() => "held"), ...psp_party_ids.map(() => "clearing")],
      ],
    );
    const account_ids = new Map(rows.map((row) => [`${row.party_id}|${row.purpose}`, BigInt(row.id)]));
    return new NaiveLedger(db, account_ids);
  }

  private account(party_id: string, purpose: "held" | "clearing"): bigint {
    const id = this.account_ids.get(`${party_id}|${purpose}`);
    assert(id !== undefined, `naive ledger: no ${purpose} account for ${party_id}`);
    return id;
  }

  /** Books one order's legs: the PSP's clearing account pays, every leg's party receives. Returns the postings written. */
  async book(order: Order, legs: readonly Leg[], clearing_party_id: string): Promise<number> {
    const postings: { account_id: bigint; amount_minor: bigint }[] = [
      { account_id: this.account(clearing_party_id, "clearing"), amount_minor: -order.paid_minor },
    ];
    let credits = 0n;
    // A platform subsidy leg is negative: the platform's held account funds it.
    for (const leg of legs) {
      postings.push({ account_id: this.account(leg.party_id, "held"), amount_minor: leg.amount_minor });
      credits += leg.amount_minor;
    }
    assert(credits === order.paid_minor, "naive ledger: the legs sum to the amount paid");
    const locked = [...new Set(postings.map((posting) => posting.account_id))].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    await inTransaction(this.db, async (tx) => {
      const [row] = await tx.query<{ id: bigint }>(
        "INSERT INTO naive_transactions (order_id, paid_minor) VALUES ($1, $2) RETURNING id",
        [order.id, order.paid_minor],
      );
      for (const account_id of locked) {
        await tx.query("SELECT balance_minor FROM naive_accounts WHERE id = $1 FOR UPDATE", [account_id]);
      }
      for (const posting of postings) {
        await tx.query(
          "INSERT INTO naive_postings (transaction_id, account_id, amount_minor) VALUES ($1, $2, $3)",
          [row!.id, posting.account_id, posting.amount_minor],
        );
        await tx.query("UPDATE naive_accounts SET balance_minor = balance_minor + $2 WHERE id = $1", [
          posting.account_id,
          posting.amount_minor,
        ]);
      }
    });
    return postings.length;
  }
}

/** What is wrong with the naive ledger's books, if anything: the same invariants as ClearSplit's. */
export async function naiveProblems(db: Queryable): Promise<string[]> {
  const problems: string[] = [];
  const [total] = await db.query<{ total: string | null }>(
    "SELECT sum(balance_minor)::text AS total FROM naive_accounts",
  );
  if ((total?.total ?? "0") !== "0") problems.push(`naive trial balance is ${total?.total}, not 0`);
  const drift = await db.query(
    `SELECT a.id FROM naive_accounts a LEFT JOIN naive_postings p ON p.account_id = a.id
      GROUP BY a.id HAVING a.balance_minor <> coalesce(sum(p.amount_minor), 0) LIMIT 5`,
  );
  if (drift.length > 0)
    problems.push(`naive balances differ from their postings on ${drift.length}+ accounts`);
  const unbalanced = await db.query(
    `SELECT t.order_id FROM naive_transactions t JOIN naive_postings p ON p.transaction_id = t.id
      GROUP BY t.id HAVING sum(p.amount_minor) <> 0
          OR NOT bool_or(p.amount_minor = -t.paid_minor) LIMIT 5`,
  );
  if (unbalanced.length > 0)
    problems.push(`naive transactions whose legs miss the amount paid: ${unbalanced.length}+`);
  return problems;
}
