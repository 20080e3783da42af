-- HTTP edge state: API keys and the Idempotency-Key replay store.

CREATE TABLE api_keys (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id text NOT NULL CHECK (id ~ '^[a-z0-9]{12,32}$'),
  -- SHA-256 of the secret half of the key, hex. The secret itself is shown once and never stored.
  secret_sha256 text NOT NULL CHECK (length(secret_sha256) = 64),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role text NOT NULL,
  party_id text,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  PRIMARY KEY (id),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id)
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE http_idempotency (
  tenant_id text NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  -- SHA-256 of method, route and body: the same key with another request is a conflict.
  request_sha256 text NOT NULL,
  status_code smallint NOT NULL,
  response_body text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
