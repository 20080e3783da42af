-- Statements show a split's credit in pieces by kind (sales, commission,
-- coupons and subsidies, supplier cost, referral fees, PSP fees, tax,
-- shipping): the fold now writes account_daily rows of kind `split:<line>`
-- (docs/reports.md). Aggregates folded before this kept each split whole, so
-- they are dropped and the fold starts again from the first leaf; until it has
-- caught up, a statement adds the not yet folded transactions itself, so it is
-- exact throughout.
DELETE FROM account_daily;
DELETE FROM report_fold_cursors;

-- The cursor's leaf's record position, (xid, id), kept beside it: a statement
-- read under a party's row security cannot see the cursor's leaf or record
-- when they belong to another party, and must still know where the fold ends.
ALTER TABLE report_fold_cursors ADD COLUMN record_xid xid8, ADD COLUMN record_id uuid;
