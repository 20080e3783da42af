// The order lifecycle after booking: completion, release, refunds and
// chargebacks. One file per use case; this module is their common entry point.

export { type StoredRefund, selectRefunds } from "../../store/order-refunds-sql.ts";
export { completeOrder, completeOrders, completions_per_batch_max } from "./complete.ts";
export { lockOrder } from "./order-lookups.ts";
export { type RefundKind, refundOrder } from "./refund-order.ts";
export { releaseDue, releaseOrder, releases_per_batch_max } from "./release.ts";
