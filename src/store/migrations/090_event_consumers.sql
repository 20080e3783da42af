-- Durable cursors of the consumers that read the commit-ordered event stream
-- (event_seqs) and hand events on outside the database: the NATS JetStream
-- publisher today. A consumer advances its cursor only after the outside side
-- acknowledged every event up to it, in the same transaction that read them,
-- so a crash re-sends at most one batch (at least once; the outside side
-- de-duplicates by event id).
CREATE TABLE event_consumer_cursors (
  tenant_id text NOT NULL,
  consumer text NOT NULL CHECK (consumer ~ '^[a-z0-9][a-z0-9_.:-]{0,63}$'),
  seq bigint NOT NULL CHECK (seq >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, consumer)
);
