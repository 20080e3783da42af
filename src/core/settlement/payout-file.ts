import { formatDecimal } from "../money.ts";
import { canonicalJsonSha256Hex, sha256Hex as sha256OfText } from "../sha256.ts";

// The payout file of a run: what finance sends to the bank. Two forms with the
// same rows: CSV for people and spreadsheets, and a generic bank-transfer JSON
// whose checksum is SHA-256 over the RFC 8785 form of everything but itself.
// Amounts are exact decimal strings in major units, and integers of minor units.

export const payout_file_format = "clearsplit.bank-transfer.v1";

export interface PayoutFileRow {
  payout_id: string;
  reference: string;
  party_id: string;
  party_name: string;
  payout_account_ref: string | null;
  currency: string;
  amount_minor: bigint;
  period_start: Date | null;
  period_end: Date;
}

export interface PayoutFileHeader {
  tenant_id: string;
  run_date: string;
  generated_at: Date;
}

const csv_columns = [
  "reference",
  "payout_id",
  "party_id",
  "party_name",
  "payout_account_ref",
  "currency",
  "amount",
  "amount_minor",
  "period_start",
  "period_end",
] as const;

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function payoutFileCsv(rows: readonly PayoutFileRow[]): string {
  const lines = [csv_columns.join(",")];
  for (const row of rows) {
    lines.push(
      [
        row.reference,
        row.payout_id,
        row.party_id,
        row.party_name,
        row.payout_account_ref ?? "",
        row.currency,
        formatDecimal(row.amount_minor, row.currency),
        row.amount_minor.toString(),
        row.period_start?.toISOString() ?? "",
        row.period_end.toISOString(),
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

export function sha256Hex(text: string): string {
  return sha256OfText(text);
}

export function payoutFileJson(
  header: PayoutFileHeader,
  rows: readonly PayoutFileRow[],
): Record<string, unknown> {
  const totals: Record<string, { count: number; amount_minor: bigint }> = {};
  for (const row of rows) {
    const total = totals[row.currency] ?? { count: 0, amount_minor: 0n };
    total.count += 1;
    total.amount_minor += row.amount_minor;
    totals[row.currency] = total;
  }
  const body = {
    format: payout_file_format,
    tenant_id: header.tenant_id,
    run_date: header.run_date,
    generated_at: header.generated_at.toISOString(),
    control: {
      transfers: rows.length,
      totals: Object.fromEntries(
        Object.entries(totals)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([currency, total]) => [
            currency,
            {
              count: total.count,
              amount: formatDecimal(total.amount_minor, currency),
              amount_minor: Number(total.amount_minor),
            },
          ]),
      ),
    },
    transfers: rows.map((row) => ({
      reference: row.reference,
      payout_id: row.payout_id,
      beneficiary: { party_id: row.party_id, name: row.party_name, account_ref: row.payout_account_ref },
      currency: row.currency,
      amount: formatDecimal(row.amount_minor, row.currency),
      amount_minor: Number(row.amount_minor),
      period_start: row.period_start?.toISOString() ?? null,
      period_end: row.period_end.toISOString(),
    })),
  };
  return {
    ...body,
    checksum: { algorithm: "SHA-256", canonicalization: "RFC8785", value: canonicalJsonSha256Hex(body) },
  };
}

/** Recomputes a bank-transfer JSON's checksum; true when the document is intact. */
export function verifyPayoutFileJson(document: Record<string, unknown>): boolean {
  const { checksum, ...body } = document;
  const value = (checksum as { value?: unknown } | undefined)?.value;
  return typeof value === "string" && value === canonicalJsonSha256Hex(body);
}
