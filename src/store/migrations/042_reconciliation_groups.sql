-- Reconciliation (docs/settlement.md): items matched together (one bill row
-- against several payouts, or several rows against one payout) share a
-- match_group; `reason` says why an item is not matched where words help
-- (a date beyond the tolerance, a group whose sum disagrees). The index finds
-- whether an order or refund was already seen in any bill, so an item near a
-- day's edge is judged once, by the bill that has it.
ALTER TABLE reconciliation_items ADD COLUMN match_group text;
ALTER TABLE reconciliation_items ADD COLUMN reason text CHECK (length(reason) <= 500);
CREATE INDEX reconciliation_items_billed ON reconciliation_items (tenant_id, order_id, kind)
  WHERE bill_line IS NOT NULL;
