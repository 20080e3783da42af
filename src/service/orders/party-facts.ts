// The order facts a party other than the merchant may see (issue 12): what it
// needs to recompute its own legs, and nothing more. A supplier gets the lines
// it supplies, with quantity and its unit cost, never the merchant's prices,
// the coupons or who referred the buyer. Every other party gets the order's
// identity, currency, time and amount paid, from which its legs' notes derive.

const order_fields = ["id", "currency", "paid_at", "merchant_id", "paid_minor"] as const;
const supplier_line_fields = [
  "line_id",
  "sku",
  "category",
  "qty",
  "supplier_id",
  "supplier_unit_cost_minor",
] as const;

export function partyFacts(facts: unknown, party_id: string): Record<string, unknown> | null {
  if (typeof facts !== "object" || facts === null) return null;
  const order = facts as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const field of order_fields) if (order[field] !== undefined) result[field] = order[field];
  const lines = Array.isArray(order.lines) ? (order.lines as Record<string, unknown>[]) : [];
  const own = lines.filter((line) => line.supplier_id === party_id);
  if (own.length > 0) {
    result.lines = own.map((line) => {
      const kept: Record<string, unknown> = {};
      for (const field of supplier_line_fields) if (line[field] !== undefined) kept[field] = line[field];
      return kept;
    });
  }
  return result;
}
