-- Sequencing becomes insert-only. The sequencers used to number a queued row
-- with an UPDATE, which rewrote every log record and every event a second
-- time (a new heap tuple and three index entries each); the log's alone was
-- about 8% of PostgreSQL's CPU while booking. Now a leaf index (a stream seq)
-- is a row of its own, and log_records and events are never updated at all.
--
-- A sequencer no longer finds its work by a NULL test but by a cursor: rows
-- are taken in (xid, id) order, only below the commit horizon, so every row
-- at or before the last sequenced one is already sequenced, and the next
-- round takes exactly the rows after it (src/store/log-leaves-sql.ts).

-- Leaf `leaf_index` of a tenant's log is the record `record_id`. No foreign key
-- to log_records: its check would take a KEY SHARE lock on the record, which
-- writes the record's tuple again (the very cost this migration removes), and
-- log_records refuses DELETE anyway. The audit (`clearsplit verify db`) names
-- a leaf whose record row is gone.
CREATE TABLE log_leaves (
  tenant_id text NOT NULL,
  leaf_index bigint NOT NULL CHECK (leaf_index >= 0),
  record_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, leaf_index),
  -- A record is a leaf at most once; also the lookup of a record's proof.
  UNIQUE (tenant_id, record_id)
);

INSERT INTO log_leaves (tenant_id, leaf_index, record_id)
  SELECT tenant_id, leaf_index, id FROM log_records WHERE leaf_index IS NOT NULL;

-- The cursor is only sound if the existing leaves are already in (xid, id)
-- order and no queued record sorts before the last leaf. The UPDATE-based
-- sequencer kept both (it took rows in that order, only below the horizon);
-- a database restored from a dump into another cluster would not, because its
-- new transaction ids start below the stored ones, and its records would wait
-- forever. Refuse to migrate such a database rather than stall its log.
DO $$
DECLARE
  misplaced bigint;
  stranded bigint;
BEGIN
  SELECT count(*) INTO misplaced FROM (
    SELECT leaf_index, row_number() OVER (PARTITION BY tenant_id ORDER BY xid, id) - 1 AS expected
      FROM log_records WHERE leaf_index IS NOT NULL) AS l
   WHERE leaf_index <> expected;
  SELECT count(*) INTO stranded FROM log_records q
    JOIN (SELECT DISTINCT ON (tenant_id) tenant_id, xid, id FROM log_records
           WHERE leaf_index IS NOT NULL ORDER BY tenant_id, leaf_index DESC) AS last
      ON last.tenant_id = q.tenant_id
   WHERE q.leaf_index IS NULL AND (q.xid, q.id) < (last.xid, last.id);
  IF misplaced > 0 OR stranded > 0 THEN
    RAISE EXCEPTION 'clearsplit: % leaves out of (xid, id) order and % queued records before the last leaf; sequence the log with the previous version, and do not restore dumps into a younger cluster', misplaced, stranded;
  END IF;
END;
$$;

DROP TRIGGER log_records_sequence_only ON log_records;
DROP FUNCTION clearsplit_log_record_sequence_only();
DROP INDEX log_records_unsequenced;
DROP INDEX log_records_leaf;
ALTER TABLE log_records DROP COLUMN leaf_index;
-- The sequencer's scan after its cursor, and the lag probe's first row after it.
CREATE INDEX log_records_order ON log_records (tenant_id, xid, id);

CREATE TRIGGER log_records_append_only BEFORE UPDATE OR DELETE ON log_records
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();

-- A party sees the leaf of a record it may see, as with log_records itself.
-- The subquery runs as the reader, so log_records' own policy applies to it too.
GRANT SELECT ON log_leaves TO clearsplit_reader;
ALTER TABLE log_leaves ENABLE ROW LEVEL SECURITY;
CREATE POLICY log_leaves_scope ON log_leaves FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*'
      OR EXISTS (SELECT 1 FROM log_records r
                  WHERE r.tenant_id = log_leaves.tenant_id AND r.id = log_leaves.record_id
                    AND r.party_ids @> ARRAY[clearsplit_scope_party()])));

-- The live stream, the same way: `seq` of a tenant's stream is the event
-- `event_id`, numbered from 1 (src/service/events/event-sequencer.ts). No foreign
-- key, for the reason given above.
CREATE TABLE event_seqs (
  tenant_id text NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  event_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, event_id)
);

INSERT INTO event_seqs (tenant_id, seq, event_id)
  SELECT tenant_id, seq, id FROM events WHERE seq IS NOT NULL;

-- The same two conditions as for the log, for the same reason.
DO $$
DECLARE
  misplaced bigint;
  stranded bigint;
BEGIN
  SELECT count(*) INTO misplaced FROM (
    SELECT seq, row_number() OVER (PARTITION BY tenant_id ORDER BY xid, id) AS expected
      FROM events WHERE seq IS NOT NULL) AS s
   WHERE seq <> expected;
  SELECT count(*) INTO stranded FROM events q
    JOIN (SELECT DISTINCT ON (tenant_id) tenant_id, xid, id FROM events
           WHERE seq IS NOT NULL ORDER BY tenant_id, seq DESC) AS last
      ON last.tenant_id = q.tenant_id
   WHERE q.seq IS NULL AND (q.xid, q.id) < (last.xid, last.id);
  IF misplaced > 0 OR stranded > 0 THEN
    RAISE EXCEPTION 'clearsplit: % events numbered out of (xid, id) order and % queued events before the last numbered one; sequence the stream with the previous version, and do not restore dumps into a younger cluster', misplaced, stranded;
  END IF;
END;
$$;

DROP INDEX events_unsequenced;
DROP INDEX events_seq;
ALTER TABLE events DROP COLUMN seq;
CREATE INDEX events_order ON events (tenant_id, xid, id);

-- The cursor needs the last numbered event to stay as it is, and a stream
-- renumbered after a deletion would skip events for readers resuming by seq:
-- both tables are append-only. Retention, if it comes, keeps each tenant's
-- last numbered event.
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER event_seqs_append_only BEFORE UPDATE OR DELETE ON event_seqs
  FOR EACH ROW EXECUTE FUNCTION clearsplit_reject_change();
CREATE TRIGGER event_seqs_no_truncate BEFORE TRUNCATE ON event_seqs
  FOR EACH STATEMENT EXECUTE FUNCTION clearsplit_reject_change();

-- A party sees the number of an event it may see, as with events itself.
GRANT SELECT ON event_seqs TO clearsplit_reader;
ALTER TABLE event_seqs ENABLE ROW LEVEL SECURITY;
CREATE POLICY event_seqs_scope ON event_seqs FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*'
      OR EXISTS (SELECT 1 FROM events e
                  WHERE e.tenant_id = event_seqs.tenant_id AND e.id = event_seqs.event_id
                    AND e.party_ids @> ARRAY[clearsplit_scope_party()])));
