-- Orders, split policies, and the two queues every business transaction feeds:
-- the transparency log's records and the live event stream.

CREATE TABLE policies (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status text NOT NULL CHECK (status IN ('draft', 'published')),
  body jsonb NOT NULL,
  -- SHA-256 (hex) of the body's RFC 8785 form; set once, at publication.
  hash text,
  return_window_ms bigint NOT NULL CHECK (return_window_ms >= 0),
  created_at timestamptz NOT NULL,
  published_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  -- Drafts have no hash yet; NULLs never collide, so this constrains published ones.
  UNIQUE (tenant_id, hash),
  CHECK ((status = 'published') = (hash IS NOT NULL))
);

-- A published policy never changes: not its body, not its hash.
CREATE FUNCTION clearsplit_policy_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'published' THEN
    RAISE EXCEPTION 'clearsplit: policy % is published and immutable', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER policies_frozen BEFORE UPDATE OR DELETE ON policies
  FOR EACH ROW EXECUTE FUNCTION clearsplit_policy_frozen();

CREATE TABLE policy_assignments (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  scope text NOT NULL CHECK (scope IN ('tenant', 'merchant', 'category')),
  -- The merchant party id or the category; empty for the tenant scope.
  scope_value text NOT NULL DEFAULT '' CHECK (length(scope_value) <= 128),
  policy_hash text NOT NULL,
  effective_from timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, policy_hash) REFERENCES policies (tenant_id, hash)
);
CREATE INDEX policy_assignments_lookup ON policy_assignments (tenant_id, scope, scope_value, effective_from);

CREATE TABLE orders (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id text NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  merchant_id text NOT NULL,
  currency char(3) NOT NULL,
  paid_minor bigint NOT NULL CHECK (paid_minor > 0),
  paid_at timestamptz NOT NULL,
  -- The order exactly as the mall sent it, and the SHA-256 of its canonical form.
  facts jsonb NOT NULL,
  facts_sha256 text NOT NULL,
  policy_hash text NOT NULL,
  allocation jsonb NOT NULL,
  transaction_id uuid NOT NULL,
  refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= paid_minor),
  completed_at timestamptz,
  releasable_at timestamptz,
  released_at timestamptz,
  release_transaction_id uuid,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX orders_merchant ON orders (tenant_id, merchant_id, paid_at);
CREATE INDEX orders_paid_at ON orders (tenant_id, paid_at);
CREATE INDEX orders_releasable ON orders (releasable_at) WHERE released_at IS NULL AND releasable_at IS NOT NULL;

-- Which parties an order concerns (every leg's party), for party-scoped reads.
CREATE TABLE order_parties (
  tenant_id text NOT NULL,
  party_id text NOT NULL,
  order_id text NOT NULL,
  PRIMARY KEY (tenant_id, party_id, order_id)
);

CREATE TABLE order_refunds (
  tenant_id text NOT NULL,
  order_id text NOT NULL,
  refund_id text NOT NULL CHECK (length(refund_id) BETWEEN 1 AND 128),
  kind text NOT NULL CHECK (kind IN ('refund', 'chargeback')),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  request jsonb NOT NULL,
  request_sha256 text NOT NULL,
  reversal jsonb NOT NULL,
  transaction_id uuid NOT NULL,
  before_release boolean NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, order_id, refund_id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);

-- Records waiting for, or placed in, the transparency log. The record itself
-- is rebuilt from its business rows (journal, policies, …) by kind and id, so
-- tampering with those rows shows up against the log. `record_sha256` is
-- SHA-256(salt ‖ JCS(record)) as computed when the record was written.
CREATE TABLE log_records (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('journal_transaction', 'policy', 'audit_action', 'settlement_batch', 'reconciliation', 'security_event')),
  salt bytea NOT NULL CHECK (octet_length(salt) = 16),
  record_sha256 bytea NOT NULL CHECK (octet_length(record_sha256) = 32),
  -- Parties the record concerns: only they (and auditors) may fetch its proof bundle.
  party_ids text[] NOT NULL,
  -- The writing transaction's id: a sequencer takes rows only below the oldest
  -- running transaction (pg_snapshot_xmin), so it never skips a late commit.
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  leaf_index bigint,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX log_records_unsequenced ON log_records (tenant_id, xid, id) WHERE leaf_index IS NULL;
CREATE UNIQUE INDEX log_records_leaf ON log_records (tenant_id, leaf_index) WHERE leaf_index IS NOT NULL;

-- Changes visible to callers of the live stream, in the same pattern.
CREATE TABLE events (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  type text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  -- Parties that may see the event; empty means platform roles only.
  party_ids text[] NOT NULL,
  payload jsonb NOT NULL,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  seq bigint,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_unsequenced ON events (tenant_id, xid, id) WHERE seq IS NULL;
CREATE UNIQUE INDEX events_seq ON events (tenant_id, seq) WHERE seq IS NOT NULL;
