import type { ReadScope } from "../../core/auth/scope.ts";
import type {
  Cell,
  Column,
  ReportDocument,
  ReportTable,
  StreamedDocument,
  StreamedTable,
} from "../../core/reports/document.ts";
import type { Database } from "../../store/database.ts";
import { withReadScope } from "../../store/scoped.ts";
import { exportCurrencies, type OrderFilter, type OrderLeg, orderLegPages } from "./order-legs.ts";

// The split detail report: every leg of every order, one table per currency
// (sorted), each in (paid_at, id) order. JSON and PDF build it whole (at most
// `report_orders_max` orders); CSV and XLSX stream it, a page of orders at a
// time, through the same scoped reads and the same row shape, so the file is
// the same either way.

const split_detail_columns: Column[] = [
  { key: "order_id", label: "order", type: "text" },
  { key: "paid_at", label: "day", type: "date" },
  { key: "party_id", label: "party", type: "text" },
  { key: "role", label: "role", type: "text" },
  { key: "rule_id", label: "rule", type: "text" },
  { key: "category", label: "category", type: "text" },
  { key: "basis_minor", label: "basis_minor", type: "money" },
  { key: "rate_bp", label: "rate_bp", type: "count" },
  { key: "amount_minor", label: "amount", type: "money" },
  { key: "note", label: "note", type: "text" },
];
const split_detail_totals = ["amount_minor"];

function legRow({ order, leg, category }: OrderLeg): Cell[] {
  return [
    order.id,
    order.paid_at.toISOString(),
    leg.party_id,
    leg.role,
    leg.rule_id,
    category,
    BigInt(leg.basis_minor),
    leg.rate_bp === undefined ? null : BigInt(leg.rate_bp),
    BigInt(leg.amount_minor),
    leg.note,
  ];
}

/** The whole report from legs already read (JSON and PDF). */
export function splitDetail(legs: readonly OrderLeg[]): Pick<ReportDocument, "tables" | "json"> {
  const by_currency = new Map<string, OrderLeg[]>();
  for (const item of legs) {
    const items = by_currency.get(item.order.currency) ?? [];
    items.push(item);
    by_currency.set(item.order.currency, items);
  }
  const tables: ReportTable[] = [...by_currency.keys()].sort().map((currency) => ({
    title: "split_detail",
    currency,
    columns: split_detail_columns,
    rows: by_currency.get(currency)!.map(legRow),
    totals: split_detail_totals,
  }));
  const json = {
    items: legs.map(({ order, leg, category }) => ({
      order_id: order.id,
      paid_at: order.paid_at.toISOString(),
      currency: order.currency,
      category,
      ...leg,
    })),
  };
  return { tables, json };
}

export interface ExportOptions {
  /** Orders per keyset page; small in tests. */
  page_orders?: number | undefined;
  /** Told after each page is read, with its order count. */
  on_page?: ((orders: number) => void) | undefined;
}

/**
 * The tables of the report for CSV and XLSX, read page by page as the writer
 * asks for them. The limits (row count, a named order) are checked here,
 * before anything is written, so a refusal is an error answer, never a cut file.
 */
export async function splitDetailTables(
  db: Database,
  scope: ReadScope,
  filter: OrderFilter,
  options: ExportOptions = {},
): Promise<StreamedDocument["tables"]> {
  const currencies = await withReadScope(db, scope, (tx) => exportCurrencies(tx, scope, filter));
  async function* pages(currency: string): AsyncGenerator<readonly Cell[][]> {
    for await (const legs of orderLegPages(db, scope, { ...filter, currency }, options))
      yield legs.map(legRow);
  }
  async function* tables(): AsyncGenerator<StreamedTable> {
    for (const currency of currencies)
      yield {
        title: "split_detail",
        currency,
        columns: split_detail_columns,
        pages: pages(currency),
        totals: split_detail_totals,
      };
  }
  return tables();
}
