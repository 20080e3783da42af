import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { parseProfile } from "../../core/settlement/profile.ts";
import type { Queryable } from "../../store/database.ts";
import { getOrderDetail } from "../orders/order-reads.ts";
import { assertPartyVisible, partyBalances } from "../parties/party-reads.ts";
import { settlementView } from "./party-profile.ts";

// Where money stands between the order and the bank: held → releasable →
// available → in_transit → paid_out, with the date of each step reached and
// the payout that took it the last two steps.

export type SettlementStep = "held" | "releasable" | "available" | "in_transit" | "paid_out";

export interface OrderPartySettlement {
  party_id: string;
  state: SettlementStep;
  steps: Partial<Record<SettlementStep, Date | null>>;
  payout: { id: string; reference: string; state: string } | null;
}

interface PayoutLink extends Record<string, unknown> {
  party_id: string;
  payout_id: string;
  reference: string;
  state: "in_transit" | "paid_out";
  created_at: Date;
  resolved_at: Date | null;
}

/** Settlement status of one order for each party the caller may see. */
export async function orderSettlement(
  db: Queryable,
  scope: ReadScope,
  order_id: string,
  now: Date,
): Promise<{ order_id: string; parties: OrderPartySettlement[] }> {
  const order = await getOrderDetail(db, scope, order_id);
  const party_ids = [...new Set(order.legs.map((leg) => leg.party_id))].filter(
    (party) => scope.party_id === null || party === scope.party_id,
  );
  const links = await db.query<PayoutLink>(
    `SELECT DISTINCT ON (p.party_id) p.party_id, p.id::text AS payout_id, p.reference, p.state, p.created_at, p.resolved_at
       FROM payout_entries pe JOIN payouts p ON p.tenant_id = pe.tenant_id AND p.id = pe.payout_id
      WHERE pe.tenant_id = $1 AND pe.order_id = $2 AND p.state IN ('in_transit', 'paid_out')
        AND ($3::text IS NULL OR p.party_id = $3)
      ORDER BY p.party_id, p.id DESC`,
    [scope.tenant_id, order_id, scope.party_id],
  );
  const link_of = new Map(links.map((link) => [link.party_id, link]));
  const parties = party_ids.sort().map((party_id): OrderPartySettlement => {
    const link = link_of.get(party_id);
    const releasable = order.releasable_at !== null && order.releasable_at.getTime() <= now.getTime();
    const steps: OrderPartySettlement["steps"] = {
      held: order.paid_at,
      releasable: order.releasable_at,
      available: order.released_at,
      in_transit: link?.created_at ?? null,
      paid_out: link?.state === "paid_out" ? link.resolved_at : null,
    };
    const state: SettlementStep =
      link?.state === "paid_out"
        ? "paid_out"
        : link !== undefined
          ? "in_transit"
          : order.released_at !== null
            ? "available"
            : releasable
              ? "releasable"
              : "held";
    return {
      party_id,
      state,
      steps,
      payout:
        link === undefined ? null : { id: link.payout_id, reference: link.reference, state: link.state },
    };
  });
  return { order_id, parties };
}

/** A party's settlement position: balances by step, its profile, and its latest payouts. */
export async function partySettlement(
  db: Queryable,
  scope: ReadScope,
  party_id: string,
  full_account: boolean,
) {
  await assertPartyVisible(db, scope, party_id);
  const [party] = await db.query<{ settlement: unknown; status: string } & Record<string, unknown>>(
    "SELECT settlement, status FROM parties WHERE tenant_id = $1 AND id = $2",
    [scope.tenant_id, party_id],
  );
  if (party === undefined) throw new DomainError("party_not_found", `no party ${party_id}`, "id");
  const balances = await partyBalances(db, scope, party_id);
  const totals = await db.query<
    { currency: string; state: string; amount_minor: bigint; payouts: bigint } & Record<string, unknown>
  >(
    `SELECT currency::text AS currency, state, coalesce(sum(amount_minor), 0)::int8 AS amount_minor, count(*)::int8 AS payouts
       FROM payouts WHERE tenant_id = $1 AND party_id = $2 GROUP BY currency, state ORDER BY currency, state`,
    [scope.tenant_id, party_id],
  );
  const last = await db.query<
    {
      id: string;
      reference: string;
      state: string;
      amount_minor: bigint;
      currency: string;
      created_at: Date;
    } & Record<string, unknown>
  >(
    `SELECT id::text, reference, state, amount_minor, currency::text AS currency, created_at FROM payouts
      WHERE tenant_id = $1 AND party_id = $2 ORDER BY id DESC LIMIT 5`,
    [scope.tenant_id, party_id],
  );
  const profile = parseProfile(party.settlement);
  return {
    party_id,
    status: party.status,
    profile: settlementView(party.settlement, full_account),
    cycle: profile.cycle,
    balances: balances.map((balance) => ({
      currency: balance.currency,
      held_minor: balance.held_minor,
      available_minor: balance.available_minor,
      in_transit_minor: balance.in_transit_minor,
      debt_minor: balance.debt_minor,
    })),
    payouts_by_state: totals.map((row) => ({ ...row, payouts: Number(row.payouts) })),
    recent_payouts: last,
  };
}
