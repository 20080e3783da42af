// The split engine's public API. Everything here is pure except `policyHash` and
// `loadPolicy` (hash.ts), which use node:crypto; a browser verifier imports the
// other files directly.
export { allocate } from "./allocate.ts";
export {
  type AllocationJson,
  allocationFromJson,
  allocationToJson,
  type LegJson,
  legToJson,
  type ReversalJson,
  reversalFromJson,
  reversalToJson,
} from "./allocation-json.ts";
export { type LineFacts, lineFacts } from "./claims.ts";
export { type Coupon, type CouponFunder, type Order, type OrderLine, type Psp, parseOrder } from "./order.ts";
export { type Base, type CapMode, type FeeBearer, type Policy, parsePolicy, pspTerms } from "./policy.ts";
export { loadPolicy, type PolicyVersion, policyHash } from "./policy-hash.ts";
export { parseRefund, type Refund, type RefundLine, refundAmount } from "./refund.ts";
export { compareLegs, reverse } from "./reverse.ts";
export { largestRemainder, splitProRata } from "./rounding.ts";
export * from "./split-limits.ts";
export type { AllocateContext, Allocation, Leg, Reversal, Role } from "./types.ts";
export { roles } from "./types.ts";
