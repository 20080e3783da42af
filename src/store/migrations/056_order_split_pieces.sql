-- Each booked order keeps the pieces of its parties' split credits by kind
-- (src/core/reports/split-lines.ts), computed from the allocation the booking
-- has in hand: {"<party id>": {"split:<line kind>": "<minor units>", ...}}.
-- The report fold reads them instead of recomputing every order's split from
-- its facts, which cost more CPU per order than the booking itself. Derived
-- data, like referrers_unknown: the legs stay recomputable from the facts, the
-- fold checks that a party's pieces sum to its posting, and orders booked
-- before this (NULL here) are still cut by recomputing.
ALTER TABLE orders ADD COLUMN split_pieces jsonb;
