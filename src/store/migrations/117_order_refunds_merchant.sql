-- The audit runner's refund-rate rule counts, for each refund of a round, the
-- refunds its merchant made in a window (store/audit-runner-sql.ts). The count
-- joined every refund of the tenant in the window to its order to learn the
-- merchant: order_refunds had no index but its primary key, so each count read
-- every refund the tenant ever made (17 ms per round at 20,000 simulated
-- operations, growing with the books). A refund's merchant is its order's and
-- never changes, so it is kept on the refund and the count is a range of one
-- index: the merchant's refunds in the window, and nothing else.
ALTER TABLE order_refunds ADD COLUMN merchant_id text;
UPDATE order_refunds r SET merchant_id = o.merchant_id
  FROM orders o WHERE o.tenant_id = r.tenant_id AND o.id = r.order_id;
ALTER TABLE order_refunds ALTER COLUMN merchant_id SET NOT NULL;
CREATE INDEX order_refunds_merchant_created ON order_refunds (tenant_id, merchant_id, created_at);
