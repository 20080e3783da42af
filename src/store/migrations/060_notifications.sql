-- Notifications (docs/notifications.md): the dispatcher reads the sequenced
-- event stream (event_seqs) with one durable cursor per channel, and turns
-- each event into inbox items, e-mails and webhook deliveries. Every row it
-- makes is unique by (recipient, event), so a round replayed after a crash
-- adds nothing twice.

-- The language of a user's e-mails and inbox texts.
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'zh-CN'
  CHECK (language IN ('zh-CN', 'zh-TW', 'en'));

-- How far each channel has taken the tenant's event stream: every event with
-- seq <= last_seq has been fanned out, in the same transaction that moved it.
CREATE TABLE notification_cursors (
  tenant_id text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('people', 'webhooks')),
  last_seq bigint NOT NULL CHECK (last_seq >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, channel)
);

CREATE TABLE notification_preferences (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
  delivery text NOT NULL CHECK (delivery IN ('inbox', 'email', 'both', 'digest', 'none')),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, event_type),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

CREATE TABLE inbox_items (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  user_id uuid NOT NULL,
  -- The event it tells of; null for test notifications and digests.
  event_id uuid,
  event_seq bigint,
  type text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  -- The event's parties, for row-level security: a party's reader sees only its own.
  party_ids text[] NOT NULL,
  title text NOT NULL CHECK (length(title) <= 300),
  body text NOT NULL CHECK (length(body) <= 4000),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  read_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, user_id, event_id)
);
CREATE INDEX inbox_items_user ON inbox_items (tenant_id, user_id, id);
CREATE INDEX inbox_items_unread ON inbox_items (tenant_id, user_id) WHERE read_at IS NULL;

-- One row per mail to send; the text is rendered when the row is made, in the
-- user's language. Digest rows wait until `next_attempt_at` (the next UTC
-- midnight) and are sent together as one mail.
CREATE TABLE email_messages (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  user_id uuid NOT NULL,
  event_id uuid,
  kind text NOT NULL CHECK (kind IN ('event', 'digest', 'test')),
  to_address text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
  language text NOT NULL,
  type text NOT NULL,
  subject text NOT NULL CHECK (length(subject) <= 300),
  text_body text NOT NULL,
  html_body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'kept', 'failed', 'merged')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  last_error text CHECK (length(last_error) <= 1000),
  last_attempt_at timestamptz,
  sent_at timestamptz,
  message_id text,
  eml_file text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, user_id, event_id)
);
CREATE INDEX email_messages_due ON email_messages (tenant_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_endpoints (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
  event_types text[] NOT NULL,
  -- Set: the party's own events only. Null: every event of the tenant.
  party_id text,
  description text CHECK (length(description) <= 500),
  -- `whsec_<base64>`; the previous one keeps signing until it expires (rotation overlap).
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  status text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason text CHECK (length(disabled_reason) <= 500),
  -- Events up to this seq predate the endpoint and are not sent to it.
  from_seq bigint NOT NULL CHECK (from_seq >= 0),
  -- The per-endpoint sequence number of the last delivery made for it.
  last_sequence bigint NOT NULL DEFAULT 0 CHECK (last_sequence >= 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, party_id) REFERENCES parties (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  endpoint_id uuid NOT NULL,
  -- The `webhook-id` header: the event's id, the same on every attempt.
  message_id text NOT NULL,
  event_id uuid,
  event_seq bigint,
  sequence bigint NOT NULL CHECK (sequence >= 0),
  type text NOT NULL,
  party_ids text[] NOT NULL,
  -- The exact body every attempt sends, so each signature covers the same bytes.
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'dead', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  last_status_code integer,
  last_error text CHECK (length(last_error) <= 1000),
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, endpoint_id, event_id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);

CREATE TABLE webhook_attempts (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  delivery_id uuid NOT NULL,
  attempt integer NOT NULL CHECK (attempt >= 1),
  started_at timestamptz NOT NULL,
  latency_ms integer NOT NULL CHECK (latency_ms >= 0),
  status_code integer,
  error text CHECK (length(error) <= 1000),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (tenant_id, delivery_id, attempt);

-- Reads on a caller's behalf: a party sees its own inbox rows and endpoints,
-- never a secret (the owner reads secrets to sign; no route returns them but
-- creation and rotation).
ALTER TABLE inbox_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY inbox_items_scope ON inbox_items FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_ids @> ARRAY[clearsplit_scope_party()]));
REVOKE ALL ON webhook_endpoints FROM clearsplit_reader;
GRANT SELECT (tenant_id, id, url, event_types, party_id, description, status, disabled_reason, from_seq,
  last_sequence, created_by, created_at, updated_at, previous_secret_expires_at) ON webhook_endpoints TO clearsplit_reader;
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_scope ON webhook_endpoints FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party()));
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_scope ON webhook_deliveries FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR EXISTS (SELECT 1 FROM webhook_endpoints w
      WHERE w.tenant_id = webhook_deliveries.tenant_id AND w.id = webhook_deliveries.endpoint_id
        AND w.party_id = clearsplit_scope_party())));
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_attempts_scope ON webhook_attempts FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR EXISTS (SELECT 1 FROM webhook_deliveries d
      JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id
      WHERE d.tenant_id = webhook_attempts.tenant_id AND d.id = webhook_attempts.delivery_id
        AND w.party_id = clearsplit_scope_party())));
ALTER TABLE email_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY email_messages_scope ON email_messages FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_party() = '*');
ALTER TABLE notification_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_preferences_scope ON notification_preferences FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant());
