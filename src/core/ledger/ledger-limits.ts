// Explicit bounds on everything a caller controls.
export const entries_per_transaction_max = 64;
export const transactions_per_batch_max = 5_000;
export const idempotency_key_length_max = 255;
export const kind_length_max = 64;
export const memo_length_max = 500;
export const entries_page_size_max = 500;
