import { assert } from "../assert.ts";
import { isCurrency } from "../currency.ts";
import { DomainError } from "../errors.ts";
import { cycle_days_max, lag_days_max, payout_account_ref_length_max } from "../limits.ts";
import { amount_minor_max } from "../money.ts";

// A party's settlement profile: when it is paid (the cycle), how little is not
// worth a transfer (the minimum, carried over), in which currency, to which
// account, and whether what it owes is netted before it is paid.

export type Cycle =
  | { type: "daily"; lag_days: number }
  | { type: "weekly"; weekday: number }
  | { type: "monthly"; day: number }
  | { type: "manual" };

export interface SettlementProfile {
  cycle: Cycle;
  minimum_payout_minor: bigint;
  /** The only currency paid out; null pays every currency the party holds. */
  currency: string | null;
  payout_account_ref: string | null;
  net_debt_first: boolean;
}

const day_ms = 86_400_000;

export const default_profile: SettlementProfile = {
  cycle: { type: "daily", lag_days: 1 },
  minimum_payout_minor: 0n,
  currency: null,
  payout_account_ref: null,
  net_debt_first: true,
};

function invalid(field: string, message: string): DomainError {
  return new DomainError(
    "settlement_profile_invalid",
    `settlement.${field}: ${message}`,
    `settlement.${field}`,
  );
}

function integerIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  return value;
}

function parseCycle(value: unknown): Cycle {
  if (typeof value !== "object" || value === null) throw invalid("cycle", "must be an object with a type");
  const cycle = value as Record<string, unknown>;
  switch (cycle.type) {
    case "daily":
      return { type: "daily", lag_days: integerIn(cycle.lag_days ?? 1, 0, lag_days_max, "cycle.lag_days") };
    case "weekly":
      return { type: "weekly", weekday: integerIn(cycle.weekday, 1, 7, "cycle.weekday") };
    case "monthly":
      return { type: "monthly", day: integerIn(cycle.day, 1, 31, "cycle.day") };
    case "manual":
      return { type: "manual" };
    default:
      throw invalid("cycle.type", "must be daily, weekly, monthly or manual");
  }
}

/**
 * Reads a stored or submitted profile. Older profiles written as
 * `{cycle_days, payout_min_minor}` (the demo's first seed) read as daily T+N.
 */
export function parseProfile(value: unknown): SettlementProfile {
  if (value === null || value === undefined) return default_profile;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("", "must be an object");
  const raw = value as Record<string, unknown>;
  const cycle =
    raw.cycle !== undefined
      ? parseCycle(raw.cycle)
      : raw.cycle_days !== undefined
        ? { type: "daily" as const, lag_days: integerIn(raw.cycle_days, 0, cycle_days_max, "cycle_days") }
        : default_profile.cycle;
  const minimum = raw.minimum_payout_minor ?? raw.payout_min_minor ?? 0;
  if (
    !(typeof minimum === "number" && Number.isInteger(minimum)) &&
    !(typeof minimum === "string" && /^\d{1,16}$/.test(minimum))
  )
    throw invalid("minimum_payout_minor", "must be a non-negative integer of minor units");
  const minimum_payout_minor = BigInt(minimum);
  if (minimum_payout_minor < 0n || minimum_payout_minor > amount_minor_max)
    throw invalid("minimum_payout_minor", `must be 0 to ${amount_minor_max}`);
  const currency = raw.currency ?? null;
  if (currency !== null && !isCurrency(currency)) throw invalid("currency", "must be an ISO 4217 code");
  const ref = raw.payout_account_ref ?? null;
  if (
    ref !== null &&
    (typeof ref !== "string" || ref.length === 0 || ref.length > payout_account_ref_length_max)
  )
    throw invalid("payout_account_ref", `must be 1 to ${payout_account_ref_length_max} characters`);
  const net = raw.net_debt_first ?? true;
  if (typeof net !== "boolean") throw invalid("net_debt_first", "must be true or false");
  return { cycle, minimum_payout_minor, currency, payout_account_ref: ref, net_debt_first: net };
}

/** The stored (and API) form: plain JSON, amounts as integers. */
export function profileJson(profile: SettlementProfile): Record<string, unknown> {
  return {
    cycle: profile.cycle,
    minimum_payout_minor: Number(profile.minimum_payout_minor),
    currency: profile.currency,
    payout_account_ref: profile.payout_account_ref,
    net_debt_first: profile.net_debt_first,
  };
}

/** Shows enough of an account reference to recognise it, never enough to use it. */
export function maskAccountRef(ref: string | null): string | null {
  if (ref === null) return null;
  const visible = ref.length <= 4 ? 0 : Math.min(4, ref.length - 4);
  return `${"*".repeat(Math.max(ref.length - visible, 4))}${ref.slice(ref.length - visible)}`;
}

export interface CycleDecision {
  due: boolean;
  /** Unique per party and cycle: the idempotency key of the cycle's payout. */
  cycle_key: string;
  /** Funds that became available before this instant are payable in this cycle. */
  eligible_before: Date;
}

/** Midnight UTC of the instant's day. */
export function dayStart(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / day_ms) * day_ms);
}

export function isoDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

function daysInMonth(year: number, month_index: number): number {
  return new Date(Date.UTC(year, month_index + 1, 0)).getUTCDate();
}

/**
 * Whether a party on this cycle is due on the day of `as_of`, and which funds
 * it is paid. Daily T+N pays, on day R, funds released up to the end of day
 * R−N; weekly and monthly pay everything released before the run's day. A
 * manual cycle is due only when a run names the party.
 */
export function cycleOn(cycle: Cycle, as_of: Date, named: boolean): CycleDecision {
  const run_day = dayStart(as_of);
  const date = isoDate(run_day);
  const clip = (instant: Date) => (instant.getTime() < as_of.getTime() ? instant : as_of);
  switch (cycle.type) {
    case "daily": {
      assert(cycle.lag_days >= 0 && cycle.lag_days <= lag_days_max, "lag_days out of range");
      const before = new Date(run_day.getTime() - (cycle.lag_days - 1) * day_ms);
      return { due: true, cycle_key: `daily:${date}`, eligible_before: clip(before) };
    }
    case "weekly": {
      const weekday = ((run_day.getUTCDay() + 6) % 7) + 1; // ISO: Monday is 1.
      return {
        due: weekday === cycle.weekday || named,
        cycle_key: `weekly:${date}`,
        eligible_before: run_day,
      };
    }
    case "monthly": {
      const last = daysInMonth(run_day.getUTCFullYear(), run_day.getUTCMonth());
      const due_day = Math.min(cycle.day, last);
      return {
        due: run_day.getUTCDate() === due_day || named,
        cycle_key: `monthly:${date}`,
        eligible_before: run_day,
      };
    }
    case "manual":
      return { due: named, cycle_key: `manual:${date}`, eligible_before: as_of };
  }
}

export interface PayoutDecision {
  netted_minor: bigint;
  amount_minor: bigint;
  carried_over: boolean;
}

/**
 * How much is netted against debt and how much is paid, from what is payable
 * and what the party owes. Pure: the run reads the figures under lock.
 */
export function decidePayout(
  payable_minor: bigint,
  debt_minor: bigint,
  profile: Pick<SettlementProfile, "minimum_payout_minor" | "net_debt_first">,
): PayoutDecision {
  assert(payable_minor >= 0n, "payable must not be negative");
  assert(debt_minor >= 0n, "debt is owed as a positive amount");
  const netted_minor = profile.net_debt_first
    ? debt_minor < payable_minor
      ? debt_minor
      : payable_minor
    : 0n;
  const amount_minor = payable_minor - netted_minor;
  assert(amount_minor >= 0n, "a payout is never negative");
  assert(netted_minor + amount_minor === payable_minor, "netting and payout add up to what is payable");
  const carried_over = amount_minor > 0n && amount_minor < profile.minimum_payout_minor;
  return { netted_minor, amount_minor, carried_over };
}
