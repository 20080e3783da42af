-- The ledger: tenants, parties, accounts, an append-only journal, and balances
-- kept in the same transaction as the postings. Every key leads with tenant_id
-- (the distribution key if the schema is ever sharded) and there are no
-- cross-tenant references.

CREATE TABLE tenants (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE parties (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id text NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  kind text NOT NULL CHECK (kind IN ('platform', 'merchant', 'supplier', 'referrer', 'psp', 'tax', 'logistics')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  parent_id text,
  settlement jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES parties (tenant_id, id)
);

CREATE TABLE accounts (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  party_id text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN
    ('held', 'available', 'in_transit', 'payable', 'revenue', 'fees', 'clearing', 'debt', 'paid_out', 'expense')),
  currency char(3) NOT NULL,
  allow_negative boolean NOT NULL,
  -- Credit-heavy accounts spread their balance over several rows so that
  -- concurrent batches do not queue on one row lock (docs/decisions.md).
  bucket_count smallint NOT NULL DEFAULT 1 CHECK (bucket_count BETWEEN 1 AND 64),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, party_id, purpose, currency),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id)
);

CREATE TABLE balances (
  tenant_id text NOT NULL,
  account_id uuid NOT NULL,
  bucket smallint NOT NULL,
  posted_minor bigint NOT NULL DEFAULT 0,
  -- Reserved by pending two-phase holds on this account (bucket 0 only).
  pending_out_minor bigint NOT NULL DEFAULT 0 CHECK (pending_out_minor >= 0),
  pending_in_minor bigint NOT NULL DEFAULT 0 CHECK (pending_in_minor >= 0),
  -- The database's own guard for single-row restricted accounts: whatever the
  -- application decides, such a row can never hold a negative available
  -- balance. Bucket rows of a hot account may dip individually (only their sum
  -- means anything), so for them the application's lock-all-buckets rule holds.
  floor_enforced boolean NOT NULL DEFAULT false,
  CONSTRAINT balances_available_floor CHECK (NOT floor_enforced OR posted_minor - pending_out_minor >= 0),
  PRIMARY KEY (tenant_id, account_id, bucket),
  FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);

CREATE TABLE journal_transactions (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  -- SHA-256 of the canonical request, so a replay can be told from a conflict.
  content_hash text NOT NULL,
  effective_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  order_id text,
  event_id text,
  policy_hash text,
  hold_id uuid,
  memo text CHECK (length(memo) <= 500),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX journal_transactions_order ON journal_transactions (tenant_id, order_id) WHERE order_id IS NOT NULL;

CREATE TABLE postings (
  tenant_id text NOT NULL,
  transaction_id uuid NOT NULL,
  seq smallint NOT NULL,
  account_id uuid NOT NULL,
  -- Signed: positive increases the account's balance, negative decreases it.
  amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
  currency char(3) NOT NULL,
  effective_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, transaction_id, seq)
);
CREATE INDEX postings_account ON postings (tenant_id, account_id, transaction_id, seq);

CREATE TABLE holds (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  content_hash text NOT NULL,
  source_account_id uuid NOT NULL,
  destination_account_id uuid NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency char(3) NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  posted_minor bigint NOT NULL DEFAULT 0 CHECK (posted_minor >= 0 AND posted_minor <= amount_minor),
  expires_at timestamptz,
  created_at timestamptz NOT NULL,
  resolved_at timestamptz,
  transaction_id uuid,
  memo text CHECK (length(memo) <= 500),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX holds_pending_expiry ON holds (tenant_id, expires_at) WHERE status = 'pending';

-- The journal is append-only. Corrections are new transactions, never edits.
CREATE FUNCTION clearsplit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'clearsplit: % on % is not allowed: the journal is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER journal_transactions_append_only BEFORE UPDATE OR DELETE ON journal_transactions
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER journal_transactions_no_truncate BEFORE TRUNCATE ON journal_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
