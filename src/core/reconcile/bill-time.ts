import { assert } from "../assert.ts";
import { date_tolerance_ms_max } from "../limits.ts";
import type { BillProvider } from "./types.ts";

// Bills state local times without an offset: WeChat Pay and Alipay in Beijing
// time, Stripe's exports in UTC, Adyen's in the report's TimeZone column (the
// reader appends the offset). A bill time is read as an instant here, so that
// matching compares instants, never wall clocks of two zones.

/** The offset a provider's bill times are written in, when a time carries none. */
export const bill_time_offsets: Readonly<Record<BillProvider, string>> = {
  wechat: "+08:00",
  "wechat-fund": "+08:00",
  alipay: "+08:00",
  stripe: "+00:00",
  adyen: "+00:00",
  generic: "+00:00",
};

const local_time = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/;
const date_only = /^(\d{4}-\d{2}-\d{2})$/;

/** A bill's time as epoch milliseconds, or null when it is not a time. */
export function billInstantMs(text: string | null, provider: BillProvider): number | null {
  if (text === null) return null;
  const trimmed = text.trim().replaceAll("/", "-");
  const day = date_only.exec(trimmed);
  const match = local_time.exec(trimmed) ?? (day === null ? null : local_time.exec(`${day[1]} 00:00:00`));
  if (match === null) return null;
  const stated = match[3] ?? bill_time_offsets[provider];
  const offset = /^[+-]\d{4}$/.test(stated) ? `${stated.slice(0, 3)}:${stated.slice(3)}` : stated;
  const ms = Date.parse(`${match[1]}T${match[2]}${offset}`);
  return Number.isNaN(ms) ? null : ms;
}

/** Whether two instants are within the tolerance of each other. */
export function withinDateTolerance(a_ms: number, b_ms: number, tolerance_ms: number): boolean {
  assert(tolerance_ms >= 0 && tolerance_ms <= date_tolerance_ms_max, "a date tolerance within its bounds");
  return Math.abs(a_ms - b_ms) <= tolerance_ms;
}
