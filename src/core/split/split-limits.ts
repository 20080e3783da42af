// Every collection and string the split engine accepts has a named upper bound,
// so one hostile or broken order cannot make the engine loop or allocate without end.
export const lines_per_order_max = 500;
export const coupons_per_order_max = 20;
export const referrers_per_order_max = 2;
export const refunds_per_order_max = 100;
export const refund_lines_max = lines_per_order_max;
export const qty_max = 1_000_000;
export const id_length_max = 128;
/**
 * Order and refund ids travel in URL paths (`/v1/orders/{id}`), so they keep
 * to characters no client, proxy or router escapes or rewrites: letters,
 * digits and `._-`, starting with a letter or digit (so never "." or ".."),
 * at most 64 long, well under the router's parameter limit (Fastify's
 * maxParamLength, 100). docs/integration.md, "Ids".
 */
export const external_id_length_max = 64;
export const external_id_pattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The earliest paid_at accepted: no marketplace order predates it; 1970 is a zeroed clock. */
export const paid_at_floor = "2000-01-01T00:00:00Z";
export const code_length_max = 64;
export const category_length_max = 64;
export const timestamp_length_max = 40;
export const rules_per_policy_max = 16;
export const categories_per_table_max = 1_000;
export const merchant_overrides_max = 10_000;
export const tiers_max = 32;
export const providers_max = 32;
export const bp_max = 10_000;
export const bp_denominator = 10_000n;
