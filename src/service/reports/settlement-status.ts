import type { ReadScope } from "../../core/auth/scope.ts";
import type { ReportTable } from "../../core/reports/document.ts";
import type { Queryable } from "../../store/database.ts";
import { selectReleasableHeld, selectSettlementBalances } from "../../store/report-postings-sql.ts";

// Where each party's money is now: held (in return windows), of which
// releasable (window over, not yet released), available, in transit, paid out,
// and owed (debt). Balances are current; releasable is read from the held
// postings of orders whose window has ended.

export interface SettlementRow {
  party_id: string;
  currency: string;
  held_minor: bigint;
  releasable_minor: bigint;
  available_minor: bigint;
  in_transit_minor: bigint;
  paid_out_minor: bigint;
  debt_minor: bigint;
}

export async function settlementStatus(
  tx: Queryable,
  scope: ReadScope,
  filter: { party_id?: string | undefined; currency?: string | undefined },
  now: Date,
): Promise<{ tables: ReportTable[]; json: { items: SettlementRow[] } }> {
  const party_id = scope.party_id ?? filter.party_id ?? null;
  const selected = { party_id, currency: filter.currency ?? null };
  const balances = await selectSettlementBalances(tx, scope.tenant_id, selected);
  const releasable = await selectReleasableHeld(tx, scope.tenant_id, selected, now);
  const rows = new Map<string, SettlementRow>();
  const rowOf = (party: string, currency: string): SettlementRow => {
    const key = `${currency}\u0000${party}`;
    const row = rows.get(key) ?? {
      party_id: party,
      currency,
      held_minor: 0n,
      releasable_minor: 0n,
      available_minor: 0n,
      in_transit_minor: 0n,
      paid_out_minor: 0n,
      debt_minor: 0n,
    };
    rows.set(key, row);
    return row;
  };
  for (const balance of balances) {
    const row = rowOf(balance.party_id, balance.currency);
    const amount = BigInt(balance.posted);
    if (balance.purpose === "held") row.held_minor += amount;
    if (balance.purpose === "available") row.available_minor += amount;
    if (balance.purpose === "in_transit") row.in_transit_minor += amount;
    if (balance.purpose === "paid_out") row.paid_out_minor += amount;
    if (balance.purpose === "debt") row.debt_minor -= amount;
  }
  for (const item of releasable) rowOf(item.party_id, item.currency).releasable_minor += BigInt(item.amount);
  const items = [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  const tables: ReportTable[] = [...new Set(items.map((row) => row.currency))].map((currency) => ({
    title: "settlement_status",
    currency,
    columns: [
      { key: "party_id", label: "party", type: "text" },
      { key: "held_minor", label: "held", type: "money" },
      { key: "releasable_minor", label: "releasable", type: "money" },
      { key: "available_minor", label: "available", type: "money" },
      { key: "in_transit_minor", label: "in_transit", type: "money" },
      { key: "paid_out_minor", label: "paid_out", type: "money" },
      { key: "debt_minor", label: "debt", type: "money" },
    ],
    rows: items
      .filter((row) => row.currency === currency)
      .map((row) => [
        row.party_id,
        row.held_minor,
        row.releasable_minor,
        row.available_minor,
        row.in_transit_minor,
        row.paid_out_minor,
        row.debt_minor,
      ]),
    totals: [
      "held_minor",
      "releasable_minor",
      "available_minor",
      "in_transit_minor",
      "paid_out_minor",
      "debt_minor",
    ],
  }));
  return { tables, json: { items } };
}
