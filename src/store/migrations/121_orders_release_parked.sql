-- The release scan walked every due order an open audit case holds, on every
-- round: `released_at IS NULL AND releasable_at <= now` in releasable order,
-- with two case probes per order, until it found a batch it could release. A
-- review queue of thousands of open cases (the simulation reached 14,000 held,
-- due orders at 110,000 operations) made each round cost that many probes, and
-- the cost grew with the queue. Now a due order found held is parked: it
-- leaves the scan's index until a case that held it is decided, which unparks
-- it for the next round to judge again (docs/decisions.md §45).
ALTER TABLE orders ADD COLUMN release_parked boolean NOT NULL DEFAULT false;
-- The scan: the tenant's due, unparked orders in releasable order.
CREATE INDEX orders_release_due ON orders (tenant_id, releasable_at, id)
  WHERE released_at IS NULL AND releasable_at IS NOT NULL AND NOT release_parked;
-- The unpark after a party-level case: the merchant's parked orders, few.
CREATE INDEX orders_release_parked ON orders (tenant_id, merchant_id) WHERE release_parked;
