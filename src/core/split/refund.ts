import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { formatDecimal } from "../money.ts";
import { couponShares } from "./claims.ts";
import { readArray, readInteger, readMinor, readObject, readString } from "./field-readers.ts";
import type { Order } from "./order.ts";
import {
  external_id_length_max,
  external_id_pattern,
  id_length_max,
  qty_max,
  refund_lines_max,
  refunds_per_order_max,
} from "./split-limits.ts";

// A refund is given by lines and quantities (plus, optionally, shipping) or by
// a plain amount. This file turns refunds into amounts; reverse.ts turns an
// amount into reversal legs.
export interface RefundLine {
  readonly line_id: string;
  readonly qty: bigint;
}

export interface Refund {
  readonly refund_id: string;
  readonly lines?: readonly RefundLine[];
  readonly shipping_minor?: bigint;
  readonly amount_minor?: bigint;
}

export function parseRefund(json: unknown, source: "incoming" | "stored" = "incoming"): Refund {
  const object = readObject(json, "", ["refund_id", "lines", "shipping_minor", "amount_minor"]);
  // Stored refunds keep the looser id rule they were accepted under (issue 12).
  const refund_id =
    source === "incoming"
      ? readString(object.refund_id, "refund_id", external_id_length_max, external_id_pattern)
      : readString(object.refund_id, "refund_id", id_length_max, /^[\x21-\x7e]+$/);
  if ((object.lines === undefined) === (object.amount_minor === undefined)) {
    throw new DomainError(
      "refund_shape",
      "a refund gives either lines or amount_minor, not both or neither",
      "lines",
    );
  }
  if (object.amount_minor !== undefined) {
    if (object.shipping_minor !== undefined) {
      throw new DomainError(
        "refund_shape",
        "shipping_minor goes with a refund by lines; a refund by amount includes shipping in amount_minor",
        "shipping_minor",
      );
    }
    return { refund_id, amount_minor: readMinor(object.amount_minor, "amount_minor", false) };
  }
  const lines = readArray(object.lines, "lines", refund_lines_max).map((entry, index) => {
    const field = `lines[${index}]`;
    const line = readObject(entry, field, ["line_id", "qty"]);
    return {
      line_id: readString(line.line_id, `${field}.line_id`, id_length_max),
      qty: BigInt(readInteger(line.qty, `${field}.qty`, 1, qty_max)),
    };
  });
  const shipping_minor =
    object.shipping_minor === undefined
      ? undefined
      : readMinor(object.shipping_minor, "shipping_minor", true);
  return { refund_id, lines, ...(shipping_minor === undefined ? {} : { shipping_minor }) };
}

/** What has been refunded so far on one order. */
interface RefundState {
  refunded_minor: bigint;
  shipping_minor: bigint;
  readonly qty_by_line: Map<string, bigint>;
  readonly refund_ids: Set<string>;
}

/**
 * The amount a refund gives back, checked against everything refunded before.
 * A line refund gives back the line's paid part (net minus its coupon share) in
 * proportion to quantity, computed on the cumulative quantity so that refunding
 * a whole line in pieces gives back exactly the whole line.
 */
export function refundAmount(order: Order, previous_refunds: readonly Refund[], refund: Refund): bigint {
  if (previous_refunds.length >= refunds_per_order_max) {
    throw new DomainError(
      "refunds_too_many",
      `order ${order.id} already has ${previous_refunds.length} refunds; at most ${refunds_per_order_max} are allowed`,
      "refund_id",
    );
  }
  const state: RefundState = {
    refunded_minor: 0n,
    shipping_minor: 0n,
    qty_by_line: new Map(),
    refund_ids: new Set(),
  };
  for (const previous of previous_refunds) applyRefund(order, state, previous);
  return applyRefund(order, state, refund);
}

function applyRefund(order: Order, state: RefundState, refund: Refund): bigint {
  if (state.refund_ids.has(refund.refund_id)) {
    throw new DomainError(
      "refund_id_duplicate",
      `refund_id ${refund.refund_id} was already applied`,
      "refund_id",
    );
  }
  state.refund_ids.add(refund.refund_id);
  let amount_minor = refund.amount_minor ?? 0n;
  if (refund.lines !== undefined) amount_minor = lineRefundAmount(order, state, refund);
  const after_minor = state.refunded_minor + amount_minor;
  if (after_minor > order.paid_minor) {
    throw new DomainError(
      "refund_exceeds_paid",
      `refund ${refund.refund_id} of ${formatDecimal(amount_minor, order.currency)} would bring refunds to ` +
        `${formatDecimal(after_minor, order.currency)}, more than the ${formatDecimal(order.paid_minor, order.currency)} paid ` +
        `(${formatDecimal(order.paid_minor - state.refunded_minor, order.currency)} is left to refund)`,
      refund.lines === undefined ? "amount_minor" : "lines",
      {
        refund_minor: amount_minor.toString(),
        refundable_minor: (order.paid_minor - state.refunded_minor).toString(),
      },
    );
  }
  state.refunded_minor = after_minor;
  return amount_minor;
}

function lineRefundAmount(order: Order, state: RefundState, refund: Refund): bigint {
  const shares = couponShares(order);
  let amount_minor = 0n;
  refund.lines!.forEach((entry, index) => {
    const share = shares.find((candidate) => candidate.line.line_id === entry.line_id);
    if (!share) {
      throw new DomainError(
        "refund_line_unknown",
        `lines[${index}].line_id ${JSON.stringify(entry.line_id)} is not a line of order ${order.id}`,
        `lines[${index}].line_id`,
      );
    }
    const before = state.qty_by_line.get(entry.line_id) ?? 0n;
    const after = before + entry.qty;
    if (after > share.line.qty) {
      throw new DomainError(
        "refund_qty_exceeds",
        `lines[${index}].qty ${entry.qty} is more than the ${share.line.qty - before} of line ${entry.line_id} left to refund`,
        `lines[${index}].qty`,
      );
    }
    const line_paid_minor = share.line.net_minor - share.coupon_minor;
    amount_minor += (line_paid_minor * after) / share.line.qty - (line_paid_minor * before) / share.line.qty;
    state.qty_by_line.set(entry.line_id, after);
  });
  const shipping_minor = refund.shipping_minor ?? 0n;
  if (state.shipping_minor + shipping_minor > order.shipping_minor) {
    throw new DomainError(
      "refund_shipping_exceeds",
      `shipping_minor ${shipping_minor} is more than the ${order.shipping_minor - state.shipping_minor} of shipping left to refund`,
      "shipping_minor",
    );
  }
  state.shipping_minor += shipping_minor;
  assert(amount_minor >= 0n, "a line refund is never negative");
  return amount_minor + shipping_minor;
}
