import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { parseProfile } from "../../core/settlement/profile.ts";
import type { Queryable } from "../../store/database.ts";
import {
  selectOrderPayoutLinks,
  selectPartySettlementProfile,
  selectPayoutTotalsByState,
  selectRecentPayouts,
} from "../../store/settlement-runs-sql.ts";
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
  const links = await selectOrderPayoutLinks(db, scope.tenant_id, order_id, scope.party_id);
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
  const party = await selectPartySettlementProfile(db, scope.tenant_id, party_id);
  if (party === undefined) throw new DomainError("party_not_found", `no party ${party_id}`, "id");
  const balances = await partyBalances(db, scope, party_id);
  const totals = await selectPayoutTotalsByState(db, scope.tenant_id, party_id);
  const last = await selectRecentPayouts(db, scope.tenant_id, party_id, 5);
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
