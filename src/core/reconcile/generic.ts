import { isCurrency } from "../currency.ts";
import { DomainError } from "../errors.ts";
import { mapping_bytes_max } from "../limits.ts";
import { type Exact, parseExact, zero } from "./decimal.ts";
import { no_summary } from "./summary.ts";
import type { BillParser, BillRowKind, FeedResult, SummaryCheck } from "./types.ts";

// Any CSV bill, described by a column mapping:
// { "columns": { "reference": "Txn ID", "order_id": "Order", "kind": "Type",
//                "amount": "Amount", "fee": "Fee", "currency": "Currency", "occurred_at": "Date",
//                "refund_id": "Refund No",
//                "payment_reference": "Our Ref" },  // the payment, payout or run a row belongs to
//   "kinds": { "payment": ["SALE"], "refund": ["REFUND"], "fee": ["FEE"] },
//   "currency": "CNY",          // when there is no currency column
//   "negative_refunds": true }  // refunds written as negative amounts

const kinds: readonly BillRowKind[] = [
  "payment",
  "refund",
  "chargeback",
  "fee",
  "payout",
  "transfer",
  "adjustment",
];
type Column =
  | "reference"
  | "payment_reference"
  | "order_id"
  | "kind"
  | "amount"
  | "fee"
  | "currency"
  | "occurred_at"
  | "refund_id";

export interface Mapping {
  columns: Partial<Record<Column, string>> & { amount: string };
  kinds: Partial<Record<BillRowKind, string[]>>;
  currency: string | null;
}

export function parseMapping(text: string): Mapping {
  const bad = (message: string) => new DomainError("bill_unusable", `column mapping: ${message}`, "mapping");
  if (text.length > mapping_bytes_max) throw bad(`larger than ${mapping_bytes_max} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (typeof raw !== "object" || raw === null) throw bad("must be an object");
  const { columns, kinds: kind_values, currency } = raw as Record<string, unknown>;
  if (typeof columns !== "object" || columns === null) throw bad("columns must be an object");
  for (const [key, value] of Object.entries(columns))
    if (typeof value !== "string" || value.length === 0) throw bad(`columns.${key} must be a header name`);
  if (typeof (columns as Record<string, unknown>).amount !== "string")
    throw bad("columns.amount is required");
  if (currency !== undefined && !isCurrency(currency)) throw bad("currency must be an ISO 4217 code");
  if ((columns as Record<string, unknown>).currency === undefined && currency === undefined)
    throw bad("give a currency column or a currency");
  const kind_map: Partial<Record<BillRowKind, string[]>> = {};
  if (kind_values !== undefined) {
    if (typeof kind_values !== "object" || kind_values === null) throw bad("kinds must be an object");
    for (const [kind, values] of Object.entries(kind_values)) {
      if (!kinds.includes(kind as BillRowKind)) throw bad(`unknown kind ${JSON.stringify(kind)}`);
      if (!Array.isArray(values) || values.some((value) => typeof value !== "string"))
        throw bad(`kinds.${kind} must be a list of strings`);
      kind_map[kind as BillRowKind] = values as string[];
    }
  }
  return {
    columns: columns as Mapping["columns"],
    kinds: kind_map,
    currency: (currency as string | undefined) ?? null,
  };
}

export class GenericParser implements BillParser {
  readonly provider = "generic" as const;
  private index: Partial<Record<Column, number>> | null = null;
  private width = 0;

  constructor(private readonly mapping: Mapping) {}

  recognised(): boolean {
    return this.index !== null;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map((cell) => cell.trim());
    if (this.index === null) {
      const index: Partial<Record<Column, number>> = {};
      for (const [column, name] of Object.entries(this.mapping.columns) as [Column, string][]) {
        const at = cells.indexOf(name);
        if (at < 0) return { type: "skip" };
        index[column] = at;
      }
      this.index = index;
      this.width = cells.length;
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    if (cells.length !== this.width)
      return { type: "reject", reason: `expected ${this.width} columns, found ${cells.length}` };
    const cell = (column: Column) => (this.index![column] === undefined ? "" : cells[this.index![column]!]!);
    const amount = parseExact(cell("amount"));
    if (amount === null)
      return { type: "reject", reason: `amount is not a decimal: ${JSON.stringify(cell("amount"))}` };
    const fee: Exact | null = cell("fee") === "" ? zero : parseExact(cell("fee"));
    if (fee === null)
      return { type: "reject", reason: `fee is not a decimal: ${JSON.stringify(cell("fee"))}` };
    const currency = (cell("currency") || this.mapping.currency || "").toUpperCase();
    if (!isCurrency(currency))
      return { type: "reject", reason: `unknown currency ${JSON.stringify(currency)}` };
    let kind: BillRowKind = amount.units < 0n ? "refund" : "payment";
    if (this.index.kind !== undefined) {
      const value = cell("kind");
      const found = (Object.entries(this.mapping.kinds) as [BillRowKind, string[]][]).find(([, values]) =>
        values.includes(value),
      );
      if (found === undefined)
        return { type: "reject", reason: `kind ${JSON.stringify(value)} is not in the mapping` };
      kind = found[0];
    }
    return {
      type: "row",
      row: {
        line,
        kind,
        provider_reference: cell("reference") || null,
        payment_reference:
          (this.index.payment_reference === undefined ? cell("reference") : cell("payment_reference")) ||
          null,
        order_id: cell("order_id") || null,
        refund_id: cell("refund_id") || null,
        currency,
        amount: { units: amount.units < 0n ? -amount.units : amount.units, scale: amount.scale },
        fee,
        occurred_at: cell("occurred_at") || null,
      },
    };
  }

  summary(): SummaryCheck {
    return no_summary;
  }
}
