import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import example_negative from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import type { Database, Queryable } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { LogKeyStore } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import { foldLedgerDays, foldTenantOnce } from "./fold.ts";
import { postingKey, splitPostingPieces } from "./split-pieces.ts";

// The fold folds each posting once, a split's credit to a held account as the
// pieces the booking stored (migration 056), recomputed for orders without
// them, and whole when the stored pieces cannot be trusted. Every test checks
// account_daily against a reference written here from the postings, in the
// rules the fold had before it became one statement (decisions §16, §40).

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const templates = [example_order, example_cap, example_negative];

function ordersOf(prefix: string, count: number, day: number): (typeof example_order)[] {
  return Array.from({ length: count }, (_, index) => ({
    ...structuredClone(templates[index % templates.length]!),
    id: `${prefix}-${index}`,
    paid_at: `2026-11-${String(10 + day + (index % 3)).padStart(2, "0")}T0${index % 10}:00:00Z`,
  })) as (typeof example_order)[];
}

interface Daily {
  amount_minor: bigint;
  postings: bigint;
}

async function foldedRows(tenant: string): Promise<Map<string, Daily>> {
  const rows = await db.query<{ key: string; amount_minor: bigint; postings: bigint }>(
    `SELECT account_id::text || ' ' || day::text || ' ' || kind AS key, amount_minor, postings
       FROM account_daily WHERE tenant_id = $1`,
    [tenant],
  );
  return new Map(rows.map((row) => [row.key, { amount_minor: row.amount_minor, postings: row.postings }]));
}

/** What the fold must leave, computed in memory from every posting of the tenant. */
async function referenceRows(tenant: string): Promise<Map<string, Daily>> {
  const postings = await db.query<{
    transaction_id: string;
    seq: number;
    account_id: string;
    day: string;
    kind: string;
    order_id: string | null;
    amount_minor: bigint;
    party_id: string;
    purpose: string;
    stored: unknown;
  }>(
    `SELECT p.transaction_id::text AS transaction_id, p.seq, p.account_id::text AS account_id,
            ((p.effective_at AT TIME ZONE 'UTC')::date)::text AS day, j.kind, j.order_id, p.amount_minor,
            a.party_id, a.purpose, o.split_pieces -> a.party_id AS stored
       FROM postings p
       JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
       JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
       LEFT JOIN orders o ON o.tenant_id = p.tenant_id AND o.id = j.order_id AND o.transaction_id = j.id
      WHERE p.tenant_id = $1`,
    [tenant],
  );
  const credits = postings.filter(
    (posting) =>
      posting.kind === "split" &&
      posting.order_id !== null &&
      posting.amount_minor > 0n &&
      posting.purpose === "held",
  );
  const per_party = new Map<string, number>();
  for (const credit of credits) {
    const key = `${credit.transaction_id} ${credit.party_id}`;
    per_party.set(key, (per_party.get(key) ?? 0) + 1);
  }
  const pieces = new Map<string, [string, bigint][]>();
  const unstored = credits.filter((credit) => credit.stored === null);
  const recomputed = await db.transaction((tx) => splitPostingPieces(tx, tenant, unstored));
  for (const credit of unstored) {
    const cut = recomputed.get(postingKey(credit.transaction_id, credit.seq));
    if (cut !== undefined)
      pieces.set(
        postingKey(credit.transaction_id, credit.seq),
        cut.map((piece) => [piece.kind, piece.amount_minor]),
      );
  }
  for (const credit of credits) {
    if (credit.stored === null) continue;
    if (per_party.get(`${credit.transaction_id} ${credit.party_id}`) !== 1) continue;
    const own = readablePieces(credit.stored, credit.amount_minor);
    if (own !== null) pieces.set(postingKey(credit.transaction_id, credit.seq), own);
  }
  const expected = new Map<string, Daily>();
  const add = (key: string, amount_minor: bigint) => {
    const daily = expected.get(key) ?? { amount_minor: 0n, postings: 0n };
    expected.set(key, { amount_minor: daily.amount_minor + amount_minor, postings: daily.postings + 1n });
  };
  for (const posting of postings) {
    const own = pieces.get(postingKey(posting.transaction_id, posting.seq));
    if (own === undefined) add(`${posting.account_id} ${posting.day} ${posting.kind}`, posting.amount_minor);
    else
      for (const [kind, amount_minor] of own)
        add(`${posting.account_id} ${posting.day} ${kind}`, amount_minor);
  }
  return expected;
}

/** A party's stored pieces as the fold reads them: an object of `split:` kinds, decimal text that fits int8, summing to the posting. */
function readablePieces(stored: unknown, amount_minor: bigint): [string, bigint][] | null {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return null;
  const own: [string, bigint][] = [];
  for (const [kind, amount] of Object.entries(stored)) {
    if (!kind.startsWith("split:") || typeof amount !== "string" || !/^-?\d{1,19}$/.test(amount)) return null;
    const minor = BigInt(amount);
    if (minor < -(2n ** 63n) || minor >= 2n ** 63n) return null;
    own.push([kind, minor]);
  }
  const sum = own.reduce((total, [, minor]) => total + minor, 0n);
  return own.length > 0 && sum === amount_minor ? own : null;
}

/** Forgets the tenant's aggregates so the next fold starts again from the first leaf. */
async function unfold(tx: Queryable, tenant: string): Promise<void> {
  await tx.query("DELETE FROM account_daily WHERE tenant_id = $1", [tenant]);
  await tx.query("DELETE FROM report_fold_cursors WHERE tenant_id = $1", [tenant]);
}

async function bookedTenant(
  clock: ReturnType<typeof testClock>,
): Promise<{ ctx: ServiceContext; tenant: string }> {
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  return { ctx, tenant };
}

describe("report fold", () => {
  it("folds every order exactly once, in rounds of any size, as the reference does", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const { ctx, tenant } = await bookedTenant(clock);
    const keys = new LogKeyStore();
    let folded = 0;
    for (const [batch, round_leaves] of [
      [0, 2],
      [1, 5],
      [2, 1],
    ] as const) {
      const results = await bookOrders(ctx, tenant, ordersOf(`F${batch}`, 7, batch * 3));
      expect(results.every((result) => result.status === "created")).toBe(true);
      await sequenceAll(ctx, tenant, keys);
      // A few small rounds, leaving some leaves for the next batch's rounds.
      for (let round = 0; round < 2; round++) folded += await foldTenantOnce(ctx, tenant, round_leaves);
    }
    // The rest of this tenant's leaves, and only this tenant's: foldLedgerDays
    // would also fold (and count) other tests' tenants in a shared database,
    // which on Citus, where a round is slower, were still behind (issue 20).
    for (let count = await foldTenantOnce(ctx, tenant); count > 0; count = await foldTenantOnce(ctx, tenant))
      folded += count;
    expect(folded).toBeGreaterThanOrEqual(21);
    expect(await foldTenantOnce(ctx, tenant)).toBe(0);
    const expected = await referenceRows(tenant);
    const rows = await foldedRows(tenant);
    expect(rows).toEqual(expected);
    // Pieces by kind: the splits were cut, not folded whole.
    expect([...rows.keys()].some((key) => key.endsWith(" split:commission"))).toBe(true);
    // Folding the same leaves again in one round gives the same rows: none lost, none counted twice.
    await db.transaction((tx) => unfold(tx, tenant));
    expect(await foldTenantOnce(ctx, tenant)).toBe(folded);
    expect(await foldedRows(tenant)).toEqual(rows);
  });

  it("cuts orders booked without stored pieces by recomputing them, to the same rows", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const { ctx, tenant } = await bookedTenant(clock);
    expect((await bookOrders(ctx, tenant, ordersOf("R", 9, 0))).every((r) => r.status === "created")).toBe(
      true,
    );
    await sequenceAll(ctx, tenant, new LogKeyStore());
    await foldLedgerDays(ctx);
    const stored = await foldedRows(tenant);
    await db.transaction(async (tx) => {
      await unfold(tx, tenant);
      // As orders booked before migration 056: no pieces stored (every other one, so a round mixes both).
      await tx.query(
        "UPDATE orders SET split_pieces = NULL WHERE tenant_id = $1 AND id IN ('R-0', 'R-2', 'R-4', 'R-6')",
        [tenant],
      );
    });
    await foldLedgerDays(ctx);
    expect(await foldedRows(tenant)).toEqual(stored);
    expect(await foldedRows(tenant)).toEqual(await referenceRows(tenant));
  });

  it("leaves a credit whole when its stored pieces are malformed or do not sum to it", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const { ctx, tenant } = await bookedTenant(clock);
    expect((await bookOrders(ctx, tenant, ordersOf("M", 1, 0))).map((r) => r.status)).toEqual(["created"]);
    await sequenceAll(ctx, tenant, new LogKeyStore());
    const [order] = await db.query<{ merchant_id: string; pieces: Record<string, string> }>(
      "SELECT merchant_id, split_pieces -> merchant_id AS pieces FROM orders WHERE tenant_id = $1 AND id = 'M-0'",
      [tenant],
    );
    expect(order).toBeDefined();
    const merchant = order!.merchant_id;
    const [held] = await db.query<{ id: string }>(
      "SELECT id::text AS id FROM accounts WHERE tenant_id = $1 AND party_id = $2 AND purpose = 'held'",
      [tenant, merchant],
    );
    const good = order!.pieces;
    const [first_kind, first_amount] = Object.entries(good)[0]!;
    const variants: [string, unknown][] = [
      ["as stored", good],
      ["one unit short", { ...good, [first_kind]: String(BigInt(first_amount) - 1n) }],
      ["a kind without the prefix", { ...good, sales: "0" }],
      ["an exponent", { ...good, [first_kind]: "1e2" }],
      ["a JSON number", { ...good, [first_kind]: Number(first_amount) }],
      ["beyond int8", { ...good, [first_kind]: "99999999999999999999" }],
      ["19 digits beyond int8", { ...good, [first_kind]: "9999999999999999999" }],
      ["an empty object", {}],
      ["a string", "split:sales"],
      ["an array", [first_amount]],
      ["JSON null (recomputed)", null],
    ];
    for (const [name, pieces] of variants) {
      await db.transaction(async (tx) => {
        await unfold(tx, tenant);
        await tx.query(
          "UPDATE orders SET split_pieces = jsonb_set(split_pieces, ARRAY[$2], $3::text::jsonb) WHERE tenant_id = $1 AND id = 'M-0'",
          [tenant, merchant, JSON.stringify(pieces)],
        );
      });
      await foldLedgerDays(ctx);
      const rows = await foldedRows(tenant);
      expect(rows, name).toEqual(await referenceRows(tenant));
      const whole = [...rows.keys()].some((key) => key.startsWith(`${held!.id} `) && key.endsWith(" split"));
      expect(whole, name).toBe(name !== "as stored" && name !== "JSON null (recomputed)");
    }
  });
});
