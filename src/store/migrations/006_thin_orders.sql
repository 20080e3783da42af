-- An order row keeps the facts as sent and its policy's hash, not the
-- explained allocation: the engine is deterministic, so the split and its
-- notes are recomputed on read (docs/decisions.md §9). The column held about
-- 1.75 KB of jsonb per order, a quarter of it past the TOAST threshold, and
-- was the largest single cost of booking.
ALTER TABLE orders DROP COLUMN allocation;
