-- The audit runner's history reads (store/audit-runner-sql.ts) ask, for each
-- order of a round, for its merchant's orders before it in (paid_at, id)
-- order: the 50 before it (the median rule) and those in a window up to it
-- (velocity, refund rate). orders_merchant ended at paid_at, so a read could
-- not stop after 50 rows: it walked every earlier order of the merchant and
-- sorted them by id, a cost that grew with the merchant's history (docs/
-- decisions.md §38). With id in the index the (paid_at, id) comparison and
-- order are the index's own, and each read is a range of the rows it returns.
CREATE INDEX orders_merchant_paid ON orders (tenant_id, merchant_id, paid_at, id);
DROP INDEX orders_merchant;
