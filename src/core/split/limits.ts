// Every collection and string the split engine accepts has a named upper bound,
// so one hostile or broken order cannot make the engine loop or allocate without end.
export const lines_per_order_max = 500;
export const coupons_per_order_max = 20;
export const referrers_per_order_max = 2;
export const refunds_per_order_max = 100;
export const refund_lines_max = lines_per_order_max;
export const qty_max = 1_000_000;
export const id_length_max = 128;
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
