-- Identity and isolation: console users and their sessions, login throttling,
-- the security audit trail, and row-level security that confines a party's
-- reads to that party even when application code forgets a filter
-- (docs/security.md, docs/decisions.md §8).

ALTER TABLE api_keys ADD COLUMN created_by text;
ALTER TABLE api_keys ADD COLUMN revoked_by text;
ALTER TABLE api_keys ADD COLUMN revoked_reason text CHECK (length(revoked_reason) <= 500);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_valid
  CHECK (role IN ('platform_admin', 'finance', 'reviewer', 'auditor', 'merchant', 'supplier', 'integration')) NOT VALID;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_party_scoped
  CHECK (role NOT IN ('merchant', 'supplier') OR party_id IS NOT NULL) NOT VALID;

CREATE TABLE users (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  -- Lower-cased; optional, the id also works as the login name.
  email text CHECK (email IS NULL OR (length(email) BETWEEN 3 AND 254 AND email = lower(email))),
  role text NOT NULL CHECK (role IN ('platform_admin', 'finance', 'reviewer', 'auditor', 'merchant', 'supplier', 'integration')),
  party_id text,
  -- scrypt through node:crypto with a per-user salt; the parameters are stored
  -- so that they can be raised later without invalidating existing passwords.
  password_salt_hex text NOT NULL CHECK (length(password_salt_hex) = 32),
  password_hash_hex text NOT NULL CHECK (length(password_hash_hex) = 64),
  scrypt_n integer NOT NULL CHECK (scrypt_n >= 16384),
  scrypt_r integer NOT NULL CHECK (scrypt_r BETWEEN 1 AND 32),
  scrypt_p integer NOT NULL CHECK (scrypt_p BETWEEN 1 AND 16),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  disabled_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id),
  -- Merchant and supplier users are bound to exactly one party; platform users to none.
  CHECK ((role IN ('merchant', 'supplier')) = (party_id IS NOT NULL))
);

CREATE TABLE sessions (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  user_id uuid NOT NULL,
  -- SHA-256 (hex) of the cookie's token and of the CSRF token; neither token is stored.
  token_sha256 text NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
  csrf_sha256 text NOT NULL CHECK (length(csrf_sha256) = 64),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text CHECK (length(revoked_reason) <= 200),
  ip text CHECK (length(ip) <= 64),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
  CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id) WHERE revoked_at IS NULL;

-- Failed logins per account (`<tenant>:<login>`) and per client IP, shared by
-- every process on the database. A row exists only while there are failures.
CREATE TABLE login_throttle (
  subject_kind text NOT NULL CHECK (subject_kind IN ('account', 'ip')),
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 400),
  failures integer NOT NULL CHECK (failures >= 1),
  window_started_at timestamptz NOT NULL,
  locked_until timestamptz,
  PRIMARY KEY (subject_kind, subject)
);

-- Who did what to access control, from where, and how it went. No foreign key
-- to tenants: a failed login may name a tenant that does not exist.
CREATE TABLE security_events (
  tenant_id text NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 64),
  id uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  ip text CHECK (length(ip) <= 64),
  action text NOT NULL CHECK (action IN
    ('login', 'logout', 'session_revoked', 'api_key_created', 'api_key_revoked', 'user_created',
     'user_disabled', 'user_role_changed', 'user_password_changed')),
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  subject text CHECK (length(subject) <= 300),
  detail jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX security_events_time ON security_events (tenant_id, occurred_at, id);
CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER security_events_no_truncate BEFORE TRUNCATE ON security_events
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();

-- Reads on behalf of a caller run as this role (SET LOCAL ROLE) with the
-- caller's tenant and party in transaction-local settings. It owns nothing,
-- so the policies below apply to it; the owner that writes is unaffected.
-- Roles are cluster-wide: several ClearSplit databases share this one.
DO $$ BEGIN CREATE ROLE clearsplit_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN EXECUTE format('GRANT clearsplit_reader TO %I', current_user); EXCEPTION WHEN others THEN NULL; END $$;
GRANT USAGE ON SCHEMA public TO clearsplit_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO clearsplit_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO clearsplit_reader;
-- Credentials and throttling state are never read on a caller's behalf.
REVOKE ALL ON api_keys, users, sessions, login_throttle, http_idempotency FROM clearsplit_reader;

-- The caller's tenant, and its party or '*' for every party of the tenant.
-- Unset settings read as NULL or '', which match no row: the scope fails closed.
CREATE FUNCTION clearsplit_scope_tenant() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('clearsplit.tenant_id', true) $$;
CREATE FUNCTION clearsplit_scope_party() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('clearsplit.party_id', true) $$;

-- Whether the scope's party is one of the order's parties. SECURITY DEFINER so
-- that the policies on orders and order_parties do not recurse into each other.
CREATE FUNCTION clearsplit_scope_sees_order(p_tenant text, p_order text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT clearsplit_scope_party() = '*'
      OR EXISTS (SELECT 1 FROM order_parties op
                  WHERE op.tenant_id = p_tenant AND op.order_id = p_order AND op.party_id = clearsplit_scope_party())
      OR EXISTS (SELECT 1 FROM orders o
                  WHERE o.tenant_id = p_tenant AND o.id = p_order AND o.merchant_id = clearsplit_scope_party())
$$;

-- Whether the scope's party owns the account. SECURITY DEFINER for the same reason.
CREATE FUNCTION clearsplit_scope_sees_account(p_tenant text, p_account uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT clearsplit_scope_party() = '*'
      OR EXISTS (SELECT 1 FROM accounts a
                  WHERE a.tenant_id = p_tenant AND a.id = p_account AND a.party_id = clearsplit_scope_party())
$$;

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_scope ON accounts FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party()));

ALTER TABLE balances ENABLE ROW LEVEL SECURITY;
CREATE POLICY balances_scope ON balances FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_account(tenant_id, account_id));

-- Whether one of the transaction's postings is on the scope's party. A party
-- sees whole journal transactions it takes part in, as it receives the whole
-- journal record from the transparency log; balances and accounts stay its own.
CREATE FUNCTION clearsplit_scope_sees_transaction(p_tenant text, p_transaction uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT clearsplit_scope_party() = '*'
      OR EXISTS (SELECT 1 FROM postings p JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
                  WHERE p.tenant_id = p_tenant AND p.transaction_id = p_transaction
                    AND a.party_id = clearsplit_scope_party())
$$;

ALTER TABLE postings ENABLE ROW LEVEL SECURITY;
CREATE POLICY postings_scope ON postings FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_transaction(tenant_id, transaction_id));

ALTER TABLE journal_transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY journal_transactions_scope ON journal_transactions FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_transaction(tenant_id, id));

ALTER TABLE holds ENABLE ROW LEVEL SECURITY;
CREATE POLICY holds_scope ON holds FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_sees_account(tenant_id, source_account_id)
    OR clearsplit_scope_sees_account(tenant_id, destination_account_id)));

ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_scope ON orders FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_order(tenant_id, id));

ALTER TABLE order_parties ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_parties_scope ON order_parties FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_order(tenant_id, order_id));

ALTER TABLE order_refunds ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_refunds_scope ON order_refunds FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_order(tenant_id, order_id));

ALTER TABLE log_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY log_records_scope ON log_records FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_ids @> ARRAY[clearsplit_scope_party()]));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_scope ON events FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_ids @> ARRAY[clearsplit_scope_party()]));

ALTER TABLE security_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY security_events_scope ON security_events FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
