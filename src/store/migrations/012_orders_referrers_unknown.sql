-- An order's referrers that were not parties when it was booked (issue 12):
-- their share went to the platform. The allocation is recomputed from the
-- facts on every read (decision 9), so the booking's view of which referrers
-- existed is kept with the order, never re-derived from today's parties.
-- NULL when every referrer was known (nearly always).

ALTER TABLE orders ADD COLUMN referrers_unknown jsonb
  CHECK (referrers_unknown IS NULL OR jsonb_typeof(referrers_unknown) = 'array');
