import { assert } from "../assert.ts";
import {
  bucketSign,
  compareLineKinds,
  lineKindOf,
  type StatementBucket,
  statement_buckets,
} from "./kinds.ts";
import { dayOf, type Period } from "./period.ts";

// The party statement, as pure arithmetic over what the store read: for each
// balance bucket, the amount before the period and the movements within it,
// per journal kind. Opening + Σ lines = closing holds by construction and is
// asserted anyway, per bucket and in total, so a broken input fails loudly.

export interface StatementInputRow {
  purpose: string;
  journal_kind: string;
  /** Σ of the postings before `from`. */
  before_minor: bigint;
  /** Σ of the postings in [from, to). */
  within_minor: bigint;
}

export interface StatementLine {
  kind: string;
  amount_minor: bigint;
}

export interface BucketStatement {
  bucket: StatementBucket;
  opening_minor: bigint;
  lines: StatementLine[];
  closing_minor: bigint;
}

export interface CheckpointRef {
  origin: string;
  size: number;
  /** Base64 of the 32-byte root hash, as in the checkpoint's text. */
  root: string;
}

export interface Statement {
  report: "statement";
  party_id: string;
  party_name: string;
  currency: string;
  from: string;
  to: string;
  /** The balance API's `as_of` instants that give the opening and closing (its as_of includes the instant). */
  opening_as_of: string;
  closing_as_of: string;
  /** The party's net position: held + available + in transit − debt. */
  opening_minor: bigint;
  lines: StatementLine[];
  closing_minor: bigint;
  buckets: BucketStatement[];
  checkpoint: CheckpointRef | null;
  /** Journal transactions counted here that the checkpoint does not cover yet. */
  transactions_after_checkpoint: number;
  generated_at: string;
}

export interface StatementHeader {
  party_id: string;
  party_name: string;
  currency: string;
  period: Period;
  checkpoint: CheckpointRef | null;
  transactions_after_checkpoint: number;
  generated_at: Date;
}

export function buildStatement(header: StatementHeader, rows: readonly StatementInputRow[]): Statement {
  const buckets: BucketStatement[] = [];
  const total_lines = new Map<string, bigint>();
  let opening_total = 0n;
  let closing_total = 0n;
  for (const bucket of statement_buckets) {
    const sign = bucketSign(bucket);
    let opening_minor = 0n;
    const lines = new Map<string, bigint>();
    for (const row of rows) {
      if (row.purpose !== bucket) continue;
      opening_minor += sign * row.before_minor;
      opening_total += row.before_minor;
      if (row.within_minor === 0n) continue;
      const kind = lineKindOf(row.journal_kind);
      lines.set(kind, (lines.get(kind) ?? 0n) + sign * row.within_minor);
      total_lines.set(kind, (total_lines.get(kind) ?? 0n) + row.within_minor);
    }
    const sorted = sortLines(lines);
    let closing_minor = opening_minor;
    for (const line of sorted) closing_minor += line.amount_minor;
    closing_total += sign * closing_minor;
    buckets.push({ bucket, opening_minor, lines: sorted, closing_minor });
  }
  const lines = sortLines(total_lines);
  let moved = 0n;
  for (const line of lines) moved += line.amount_minor;
  assert(opening_total + moved === closing_total, "statement total does not reconcile across buckets");
  const { period } = header;
  return {
    report: "statement",
    party_id: header.party_id,
    party_name: header.party_name,
    currency: header.currency,
    from: dayOf(period.from),
    to: dayOf(period.to),
    opening_as_of: new Date(period.from.getTime() - 1).toISOString(),
    closing_as_of: new Date(period.to.getTime() - 1).toISOString(),
    opening_minor: opening_total,
    lines,
    closing_minor: closing_total,
    buckets,
    checkpoint: header.checkpoint,
    transactions_after_checkpoint: header.transactions_after_checkpoint,
    generated_at: header.generated_at.toISOString(),
  };
}

function sortLines(lines: ReadonlyMap<string, bigint>): StatementLine[] {
  return [...lines]
    .sort(([a], [b]) => compareLineKinds(a, b))
    .map(([kind, amount_minor]) => ({ kind, amount_minor }));
}
