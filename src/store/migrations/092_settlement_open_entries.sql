-- Settlement reads only what is new (docs/decisions.md, "Settlement reads what
-- is open, not the account's history"). Finding the entries of a party's
-- available account that no live payout covers used to read and anti-join
-- every posting of the account on every run, so its cost grew with the
-- account's history.
--
-- Now each available account keeps its open set: the entries no live payout
-- (in transit or paid out) covers, with what a payout needs of them. A run
-- first takes into it the postings written since the account's mark, then
-- reads the open set in effective_at order. The mark is a commit horizon
-- (the writing transaction's xid8, as log records and events use it): every
-- posting of a transaction below it was committed, or never will be, when the
-- mark was set, so a late commit, whatever its effective_at or transaction id,
-- lands at or above the mark and is taken by the next run. Taking is
-- idempotent (a posting already open, or covered by a live payout, is
-- skipped), so a mark may lag but never lose a posting. A payout covers its
-- entries by deleting them from the open set; a failed payout puts them back.

-- Existing postings get xid 0: below every mark, so an account without a mark
-- (every account, right after this migration) takes its whole history once.
ALTER TABLE postings ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE postings ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX postings_account_xid ON postings (tenant_id, account_id, xid);

CREATE TABLE settlement_open_entries (
  tenant_id text NOT NULL,
  account_id uuid NOT NULL,
  transaction_id uuid NOT NULL,
  seq smallint NOT NULL,
  order_id text,
  amount_minor bigint NOT NULL,
  effective_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, transaction_id, seq)
);
CREATE INDEX settlement_open_entries_account
  ON settlement_open_entries (tenant_id, account_id, effective_at, transaction_id, seq);

-- Every posting of the account below `taken_below` that no live payout covers is open.
CREATE TABLE settlement_account_marks (
  tenant_id text NOT NULL,
  account_id uuid NOT NULL,
  taken_below xid8 NOT NULL,
  PRIMARY KEY (tenant_id, account_id)
);
