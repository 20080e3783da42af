-- Issue 20: on Citus a row trigger runs on the shard, where the table is named
-- log_tiles_<shard id>, and a trigger that queried `log_tiles` by name would be
-- a distributed query started from inside a shard's. The prune-only guard
-- (091_log_tile_pruning.sql) therefore looks for the wider tile in its own
-- table through TG_TABLE_SCHEMA and TG_TABLE_NAME: on one node that is
-- log_tiles, on a shard the shard, which holds every tile of the tenant.
-- Behaviour is otherwise unchanged.

CREATE OR REPLACE FUNCTION clearsplit_log_tile_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  superseded boolean := false;
BEGIN
  IF TG_OP = 'DELETE' AND OLD.width < 256 THEN
    EXECUTE format(
      'SELECT EXISTS (SELECT 1 FROM %I.%I w
                       WHERE w.tenant_id = $1 AND w.level = $2 AND w.tile_index = $3 AND w.width > $4
                         AND substring(w.hashes FROM 1 FOR 32 * $4) = $5)',
      TG_TABLE_SCHEMA, TG_TABLE_NAME)
      INTO superseded USING OLD.tenant_id, OLD.level, OLD.tile_index, OLD.width, OLD.hashes;
  END IF;
  IF superseded THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'clearsplit: % on the log''s tiles is not allowed: only a partial tile that a wider tile supersedes may be deleted', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
