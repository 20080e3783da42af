-- Settlement: party profile versions, payouts and the entries they cover,
-- settlement runs, and imported provider bills with their reconciliation.

-- A party can be suspended: a suspended party is never paid out.
ALTER TABLE parties ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));
ALTER TABLE parties ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- Every version of a party's name, status and settlement profile, append-only.
CREATE TABLE party_versions (
  tenant_id text NOT NULL,
  party_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  name text NOT NULL,
  status text NOT NULL,
  settlement jsonb NOT NULL,
  changed_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, party_id, version),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id)
);
CREATE TRIGGER party_versions_append_only BEFORE UPDATE OR DELETE ON party_versions
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();

CREATE TABLE settlement_runs (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  run_date date NOT NULL,
  as_of timestamptz NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('cli', 'api', 'scheduler')),
  status text NOT NULL CHECK (status IN ('running', 'finished')),
  summary jsonb,
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX settlement_runs_date ON settlement_runs (tenant_id, run_date);

-- One payout per (party, currency, cycle): the key that makes a re-run pay nobody twice.
CREATE TABLE payouts (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  party_id text NOT NULL,
  currency char(3) NOT NULL,
  cycle_key text NOT NULL CHECK (length(cycle_key) BETWEEN 1 AND 64),
  run_id uuid NOT NULL,
  run_date date NOT NULL,
  period_start timestamptz,
  period_end timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('in_transit', 'paid_out', 'failed', 'carried_over', 'netted')),
  eligible_minor bigint NOT NULL,
  netted_minor bigint NOT NULL CHECK (netted_minor >= 0),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  minimum_payout_minor bigint NOT NULL CHECK (minimum_payout_minor >= 0),
  payout_account_ref text,
  reference text NOT NULL,
  transaction_id uuid,
  result_transaction_id uuid,
  failure_reason text CHECK (length(failure_reason) <= 500),
  provider_reference text CHECK (length(provider_reference) <= 200),
  created_at timestamptz NOT NULL,
  resolved_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, party_id, currency, cycle_key),
  UNIQUE (tenant_id, reference),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id)
);
CREATE INDEX payouts_party ON payouts (tenant_id, party_id, id);
CREATE INDEX payouts_run_date ON payouts (tenant_id, run_date);

-- The ledger entries (on the party's available account) a payout covers.
CREATE TABLE payout_entries (
  tenant_id text NOT NULL,
  payout_id uuid NOT NULL,
  transaction_id uuid NOT NULL,
  seq smallint NOT NULL,
  order_id text,
  amount_minor bigint NOT NULL,
  PRIMARY KEY (tenant_id, payout_id, transaction_id, seq)
);
CREATE INDEX payout_entries_posting ON payout_entries (tenant_id, transaction_id, seq);
CREATE INDEX payout_entries_order ON payout_entries (tenant_id, order_id) WHERE order_id IS NOT NULL;

-- Imported provider bills, keyed by the file's SHA-256: a second import of the same file changes nothing.
CREATE TABLE bill_imports (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  provider text NOT NULL,
  file_sha256 text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
  encoding text NOT NULL,
  rows_total bigint NOT NULL,
  rows_parsed bigint NOT NULL,
  -- The parse report (totals, summary check, rejected rows) and the match counts.
  report jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, file_sha256)
);

-- One row per reconciliation item: a bill row, a ledger item, or both.
CREATE TABLE reconciliation_items (
  tenant_id text NOT NULL,
  import_id uuid NOT NULL,
  seq integer NOT NULL,
  status text NOT NULL CHECK (status IN
    ('matched', 'missing_in_ledger', 'missing_in_bill', 'amount_mismatch', 'fee_mismatch', 'duplicate')),
  bill_line integer,
  kind text NOT NULL,
  provider_reference text,
  order_id text,
  refund_id text,
  payout_id uuid,
  currency char(3),
  bill_amount text,
  ledger_amount_minor bigint,
  bill_fee text,
  ledger_fee_minor bigint,
  PRIMARY KEY (tenant_id, import_id, seq)
);
CREATE INDEX reconciliation_items_status ON reconciliation_items (tenant_id, import_id, status);

GRANT SELECT ON party_versions, settlement_runs, payouts, payout_entries, bill_imports, reconciliation_items TO clearsplit_reader;

ALTER TABLE party_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY party_versions_scope ON party_versions FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party()));
ALTER TABLE payouts ENABLE ROW LEVEL SECURITY;
CREATE POLICY payouts_scope ON payouts FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party()));
ALTER TABLE payout_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY payout_entries_scope ON payout_entries FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR EXISTS (
    SELECT 1 FROM payouts p WHERE p.tenant_id = payout_entries.tenant_id AND p.id = payout_entries.payout_id
       AND p.party_id = clearsplit_scope_party())));
-- Runs, bills and reconciliation concern the whole platform: platform roles only.
ALTER TABLE settlement_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY settlement_runs_scope ON settlement_runs FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
ALTER TABLE bill_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY bill_imports_scope ON bill_imports FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
ALTER TABLE reconciliation_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY reconciliation_items_scope ON reconciliation_items FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
