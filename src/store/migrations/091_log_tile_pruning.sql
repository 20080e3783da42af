-- Partial tiles may be pruned (docs/decisions.md §27). Every round kept its
-- partial tiles for ever: up to about 2.8 GB a day for a busy tenant, almost
-- all of it hashes that a wider tile at the same level and index repeats,
-- because a tile only grows by appending (a tile of width W is the first W
-- hashes of every wider tile at the same place). The tile endpoint and every
-- proof therefore read the narrowest stored tile at least as wide as the one
-- asked for and cut it to the width asked for, and a partial tile that a wider
-- one supersedes can go.
--
-- Tiles stay immutable: UPDATE and TRUNCATE are still refused, and a DELETE is
-- allowed only for a partial tile whose bytes a wider stored tile at the same
-- level and index begins with. So the database itself guarantees that every
-- tile ever served can still be served byte for byte.

CREATE FUNCTION clearsplit_log_tile_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.width < 256 AND EXISTS (
       SELECT 1 FROM log_tiles w
        WHERE w.tenant_id = OLD.tenant_id AND w.level = OLD.level AND w.tile_index = OLD.tile_index
          AND w.width > OLD.width
          AND substring(w.hashes FROM 1 FOR 32 * OLD.width) = OLD.hashes) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'clearsplit: % on log_tiles is not allowed: only a partial tile that a wider tile supersedes may be deleted', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER log_tiles_append_only ON log_tiles;
CREATE TRIGGER log_tiles_prune_only BEFORE UPDATE OR DELETE ON log_tiles
  FOR EACH ROW EXECUTE FUNCTION clearsplit_log_tile_prune_only();

-- The pruner's scan: partial tiles only, which pruning keeps to a handful per
-- tenant (the newest checkpoint's edge), however many full tiles there are.
CREATE INDEX log_tiles_partial ON log_tiles (tenant_id, level, tile_index, width) WHERE width < 256;
