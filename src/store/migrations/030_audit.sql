-- Audit (docs/audit.md): versioned rule configurations, rule hits, cases that
-- block their order's funds while open, the actions on them (each one a record
-- in the transparency log), merchant disputes, the cursor of the asynchronous
-- rules over the event stream, and API keys issued for a user.

-- Reversed splits are parked in the platform's suspense account.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_purpose_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_purpose_check CHECK (purpose IN
  ('held', 'available', 'in_transit', 'payable', 'revenue', 'fees', 'clearing', 'debt', 'paid_out', 'expense', 'suspense'));

-- A key issued for a user acts as that user: its role, its party, and its person for four eyes.
ALTER TABLE api_keys ADD COLUMN user_id uuid;

CREATE TABLE audit_configs (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status text NOT NULL CHECK (status IN ('draft', 'published')),
  -- The normalised document; its SHA-256 over RFC 8785 is `hash`, fixed at drafting.
  body jsonb NOT NULL,
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  published_at timestamptz,
  published_by text,
  PRIMARY KEY (tenant_id, id),
  CHECK ((status = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX audit_configs_published ON audit_configs (tenant_id, published_at DESC) WHERE status = 'published';

CREATE TABLE audit_cases (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('rule', 'manual', 'dispute')),
  state text NOT NULL CHECK (state IN
    ('open', 'claimed', 'awaiting_second_approval', 'rejected', 'approved', 'reversed', 'adjusted')),
  order_id text,
  party_id text,
  rule_ids text[] NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency char(3) NOT NULL,
  config_hash text,
  opened_at timestamptz NOT NULL,
  opened_by text NOT NULL,
  -- People whose own action the case is about: they may not decide it.
  involved text[] NOT NULL DEFAULT '{}',
  claimed_by text,
  claimed_at timestamptz,
  -- The first of two decisions, while awaiting the second.
  pending jsonb,
  decided_at timestamptz,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK (order_id IS NOT NULL OR party_id IS NOT NULL)
);
-- One open rule/manual case per order, and per party for party-level rules: a hit adds to it.
CREATE UNIQUE INDEX audit_cases_open_order ON audit_cases (tenant_id, order_id)
  WHERE kind <> 'dispute' AND order_id IS NOT NULL
    AND state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected');
CREATE UNIQUE INDEX audit_cases_open_party ON audit_cases (tenant_id, party_id)
  WHERE kind <> 'dispute' AND order_id IS NULL
    AND state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected');
-- What blocks release: any open case on the order, disputes included.
CREATE INDEX audit_cases_blocking ON audit_cases (tenant_id, order_id)
  WHERE order_id IS NOT NULL AND state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected');
CREATE INDEX audit_cases_queue ON audit_cases (tenant_id, opened_at DESC, id);

CREATE TABLE audit_hits (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  case_id uuid NOT NULL,
  rule_id text NOT NULL,
  config_hash text,
  -- rule, subject and source (event, order, statement line): a redelivered source adds nothing.
  dedupe_key text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 400),
  order_id text,
  party_id text,
  reason text NOT NULL,
  inputs jsonb NOT NULL,
  inputs_sha256 text NOT NULL,
  shadow boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, dedupe_key),
  FOREIGN KEY (tenant_id, case_id) REFERENCES audit_cases (tenant_id, id)
);
CREATE INDEX audit_hits_case ON audit_hits (tenant_id, case_id);

-- The trail. Append-only: each row is an `audit_action` record in the log, rebuilt from this row.
CREATE TABLE audit_actions (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  case_id uuid,
  config_id uuid,
  action text NOT NULL CHECK (action IN ('hit', 'open', 'claim', 'comment', 'decide', 'second_approval',
    'reject', 'config_draft', 'config_publish', 'dispute')),
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  person text,
  reason text NOT NULL CHECK (length(reason) <= 4000),
  config_hash text,
  inputs_sha256 text,
  detail jsonb NOT NULL DEFAULT '{}',
  party_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_actions_case ON audit_actions (tenant_id, case_id, created_at, id);
CREATE TRIGGER audit_actions_append_only BEFORE UPDATE OR DELETE ON audit_actions
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();

CREATE TABLE disputes (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  case_id uuid NOT NULL,
  party_id text NOT NULL,
  order_id text NOT NULL,
  record_id uuid,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 4000),
  bundle jsonb,
  bundle_verified boolean NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, case_id) REFERENCES audit_cases (tenant_id, id)
);
CREATE INDEX disputes_party ON disputes (tenant_id, party_id, created_at DESC);

-- The history rules' durable position in the commit-ordered event stream.
CREATE TABLE audit_cursors (
  tenant_id text PRIMARY KEY REFERENCES tenants (id),
  seq bigint NOT NULL CHECK (seq >= 0),
  updated_at timestamptz NOT NULL
);

-- Orders per buyer, kept by the history rules (the orders table has no buyer index, on purpose).
CREATE TABLE audit_buyer_orders (
  tenant_id text NOT NULL,
  buyer_ref text NOT NULL,
  paid_at timestamptz NOT NULL,
  order_id text NOT NULL,
  PRIMARY KEY (tenant_id, buyer_ref, paid_at, order_id)
);

-- Party-scoped readers see only their own disputes, their cases and those cases' actions.
ALTER TABLE disputes ENABLE ROW LEVEL SECURITY;
CREATE POLICY disputes_scope ON disputes FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party()));
ALTER TABLE audit_cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_cases_scope ON audit_cases FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*'
    OR (kind = 'dispute' AND party_id = clearsplit_scope_party())));
ALTER TABLE audit_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_actions_scope ON audit_actions FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_ids @> ARRAY[clearsplit_scope_party()]));
ALTER TABLE audit_hits ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_hits_scope ON audit_hits FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
ALTER TABLE audit_configs ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_configs_scope ON audit_configs FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');

-- The open cases holding an order's funds, for the order view: every caller who
-- may see the order may see that (and why) it is blocked, not the cases themselves.
CREATE FUNCTION clearsplit_order_open_cases(p_tenant text, p_order text) RETURNS text[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(array_agg(id::text ORDER BY opened_at, id), '{}') FROM audit_cases
   WHERE tenant_id = p_tenant AND order_id = p_order
     AND state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected')
$$;
