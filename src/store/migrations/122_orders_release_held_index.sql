-- Migration 121's scan index was not enough: the planner kept taking the older
-- orders_releasable (releasable_at) and filtering `NOT release_parked`, so each
-- round still walked every parked order (seen at 36,000 simulated operations:
-- 4,847 rows removed by the filter for 30 returned). That index goes, so the
-- release scan has only orders_release_due to take; the settlement status
-- report, which sums every due order's held funds, parked or not, reads the
-- parked ones through their own index (store/report-postings-sql.ts).
DROP INDEX orders_releasable;
CREATE INDEX orders_release_held ON orders (tenant_id, releasable_at)
  WHERE released_at IS NULL AND releasable_at IS NOT NULL AND release_parked;
