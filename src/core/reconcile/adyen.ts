import { isCurrency } from "../currency.ts";
import { add, type Exact, parseExact, zero } from "./decimal.ts";
import { no_summary } from "./summary.ts";
import type { BillParser, BillRowKind, FeedResult, SummaryCheck } from "./types.ts";

// Adyen settlement details reports (settlement_detail_report_batch_N.csv).
// One row per booking of a settlement batch: Settled, Refunded, Chargeback,
// Fee, MerchantPayout, corrections (…Correction) and more. Gross amounts are
// in the gross currency (Gross Debit/Credit (GC)), fees and net in the net
// currency (Commission, Markup, Scheme Fees, Interchange (NC)). There is no
// summary row: totals are the batch's, reported by Adyen separately.

type Field =
  | "psp"
  | "merchant_ref"
  | "type"
  | "created"
  | "timezone"
  | "modification"
  | "gross_currency"
  | "gross_debit"
  | "gross_credit"
  | "net_currency"
  | "net_debit"
  | "net_credit"
  | "commission"
  | "markup"
  | "scheme"
  | "interchange";
const names: Record<Field, string> = {
  psp: "psp reference",
  merchant_ref: "merchant reference",
  type: "type",
  created: "creation date",
  timezone: "timezone",
  modification: "modification reference",
  gross_currency: "gross currency",
  gross_debit: "gross debit (gc)",
  gross_credit: "gross credit (gc)",
  net_currency: "net currency",
  net_debit: "net debit (nc)",
  net_credit: "net credit (nc)",
  commission: "commission (nc)",
  markup: "markup (nc)",
  scheme: "scheme fees (nc)",
  interchange: "interchange (nc)",
};
const required: readonly Field[] = [
  "psp",
  "type",
  "gross_currency",
  "gross_debit",
  "gross_credit",
  "net_currency",
];

// The report's TimeZone column names the zone of Creation Date (the account's zone, by abbreviation).
const zone_offsets: Readonly<Record<string, string>> = {
  UTC: "+00:00",
  GMT: "+00:00",
  WET: "+00:00",
  CET: "+01:00",
  CEST: "+02:00",
  EET: "+02:00",
  EEST: "+03:00",
  BST: "+01:00",
  EST: "-05:00",
  EDT: "-04:00",
  CST: "-06:00",
  CDT: "-05:00",
  PST: "-08:00",
  PDT: "-07:00",
  SGT: "+08:00",
  HKT: "+08:00",
  AEST: "+10:00",
  AEDT: "+11:00",
};

/** Creation Date with its zone's offset appended, when the zone is known; as written otherwise. */
function withZone(created: string, zone: string): string | null {
  if (created === "") return null;
  const offset = zone_offsets[zone.toUpperCase()];
  return offset === undefined ? created : `${created.replace(" ", "T")}${offset}`;
}

function kindOf(type: string): BillRowKind | null {
  if (type === "Settled" || type === "SettledBulk" || type === "SettledInstallment") return "payment";
  if (type === "Refunded" || type === "RefundedBulk" || type === "RefundedInstallment") return "refund";
  if (type === "Chargeback" || type === "SecondChargeback") return "chargeback";
  if (type === "ChargebackReversed" || type.endsWith("Correction") || type === "ManualCorrected")
    return "adjustment";
  if (type === "Fee" || type === "MiscCosts" || type === "PaidOut") return "fee";
  if (type === "MerchantPayout") return "payout";
  if (type === "Balancetransfer" || type === "DepositCorrection") return "transfer";
  return null;
}

export class AdyenSettlementParser implements BillParser {
  readonly provider = "adyen" as const;
  private index: Partial<Record<Field, number>> | null = null;
  private width = 0;

  recognised(): boolean {
    return this.index !== null;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map((cell) => cell.trim());
    if (this.index === null) {
      const lower = cells.map((cell) => cell.toLowerCase());
      const index: Partial<Record<Field, number>> = {};
      for (const [field, name] of Object.entries(names) as [Field, string][]) {
        const at = lower.indexOf(name);
        if (at >= 0) index[field] = at;
      }
      if (required.some((field) => index[field] === undefined)) return { type: "skip" };
      this.index = index;
      this.width = cells.length;
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    if (cells.length !== this.width)
      return { type: "reject", reason: `expected ${this.width} columns, found ${cells.length}` };
    const cell = (field: Field) => (this.index![field] === undefined ? "" : cells[this.index![field]!]!);
    const amount = (field: Field): Exact | null => (cell(field) === "" ? zero : parseExact(cell(field)));
    const type = cell("type");
    const kind = kindOf(type);
    if (kind === null) return { type: "reject", reason: `unknown record type ${JSON.stringify(type)}` };
    const values: Partial<Record<Field, Exact>> = {};
    for (const field of [
      "gross_debit",
      "gross_credit",
      "net_debit",
      "net_credit",
      "commission",
      "markup",
      "scheme",
      "interchange",
    ] as const) {
      const value = amount(field);
      if (value === null)
        return { type: "reject", reason: `${names[field]} is not a decimal: ${JSON.stringify(cell(field))}` };
      values[field] = value;
    }
    const gross_currency = cell("gross_currency") || cell("net_currency");
    if (!isCurrency(gross_currency))
      return { type: "reject", reason: `unknown currency ${JSON.stringify(gross_currency)}` };
    const fees = [values.commission!, values.markup!, values.scheme!, values.interchange!].reduce(add, zero);
    // Fee rows carry their amount as a net debit; other rows their gross.
    const gross =
      kind === "fee"
        ? add(values.net_debit!, { units: -values.net_credit!.units, scale: values.net_credit!.scale })
        : kind === "payment" || kind === "adjustment"
          ? add(values.gross_credit!, { units: -values.gross_debit!.units, scale: values.gross_debit!.scale })
          : add(values.gross_debit!, {
              units: -values.gross_credit!.units,
              scale: values.gross_credit!.scale,
            });
    return {
      type: "row",
      row: {
        line,
        kind,
        provider_reference: (kind === "payment" ? cell("psp") : cell("modification") || cell("psp")) || null,
        payment_reference: cell("psp") || null,
        order_id: cell("merchant_ref") || null,
        refund_id: null,
        currency: gross_currency,
        amount: gross,
        fee: kind === "fee" ? zero : fees,
        occurred_at: withZone(cell("created"), cell("timezone")),
      },
    };
  }

  summary(): SummaryCheck {
    return no_summary;
  }
}
