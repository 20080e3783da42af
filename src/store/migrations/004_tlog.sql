-- The transparency log's durable state, one log per tenant. Tiles and signed
-- checkpoints are insert-only: partial tiles stay, because every checkpointed
-- size must keep being provable. The sequencer is the only writer of these.

CREATE TABLE log_tiles (
  tenant_id text NOT NULL,
  level smallint NOT NULL CHECK (level BETWEEN 0 AND 7),
  tile_index bigint NOT NULL CHECK (tile_index >= 0),
  -- 256 for a full tile; a partial tile keeps its width at the checkpoint that produced it.
  width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  hashes bytea NOT NULL CHECK (octet_length(hashes) = 32 * width),
  PRIMARY KEY (tenant_id, level, tile_index, width)
);

CREATE TABLE log_checkpoints (
  tenant_id text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  root bytea NOT NULL CHECK (octet_length(root) = 32),
  -- The signed note exactly as signed (text, blank line, the log's signature line).
  note text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, size)
);

-- One tlog-cosignature/v1 line per witness per checkpoint, appended to the note when served.
CREATE TABLE log_cosignatures (
  tenant_id text NOT NULL,
  size bigint NOT NULL,
  witness text NOT NULL,
  line text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, size, witness),
  FOREIGN KEY (tenant_id, size) REFERENCES log_checkpoints (tenant_id, size)
);

-- The log's Ed25519 signing key, one per tenant, created on first start. The
-- private key is sealed with AES-256-GCM under a key derived by scrypt from
-- CLEARSPLIT_SECRET, or kept in a file (sealed_key NULL) when a key directory is configured.
CREATE TABLE log_keys (
  tenant_id text PRIMARY KEY,
  origin text NOT NULL,
  vkey text NOT NULL,
  -- scrypt salt (16) ‖ GCM nonce (12) ‖ ciphertext ‖ GCM tag (16)
  sealed_key bytea,
  created_at timestamptz NOT NULL
);

-- The size each configured witness last cosigned (a hint: the witness is the authority).
CREATE TABLE log_witness_state (
  tenant_id text NOT NULL,
  witness text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, witness)
);

CREATE TRIGGER log_tiles_append_only BEFORE UPDATE OR DELETE ON log_tiles
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_tiles_no_truncate BEFORE TRUNCATE ON log_tiles
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_cosignatures_append_only BEFORE UPDATE OR DELETE ON log_cosignatures
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_keys_append_only BEFORE UPDATE OR DELETE ON log_keys
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();

-- A queued record may change in one way only: the sequencer gives it a leaf
-- index, once. Its hash, salt and parties are fixed, and it is never deleted.
CREATE FUNCTION clearsplit_log_record_sequence_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL
     AND NEW.tenant_id = OLD.tenant_id AND NEW.id = OLD.id AND NEW.kind = OLD.kind
     AND NEW.salt = OLD.salt AND NEW.record_sha256 = OLD.record_sha256
     AND NEW.party_ids = OLD.party_ids AND NEW.xid = OLD.xid AND NEW.created_at = OLD.created_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'clearsplit: % on log_records may only assign a leaf index once', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER log_records_sequence_only BEFORE UPDATE OR DELETE ON log_records
  FOR EACH ROW EXECUTE FUNCTION clearsplit_log_record_sequence_only();
CREATE TRIGGER log_records_no_truncate BEFORE TRUNCATE ON log_records
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
