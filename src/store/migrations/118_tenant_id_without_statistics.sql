-- The booking's lookups by key (the orders of a batch, the transactions of
-- idempotency keys) probe a unique index per key: decisions §13. That holds
-- only while the planner believes the tenant has more than one row. Once a
-- table is analysed while it holds other tenants and not this one (a new
-- tenant growing faster than autoanalyze; on Citus any tenant new to its
-- shard), the statistics make the tenant one row, a scan of all its rows
-- through any other index led by tenant_id costs the same as the probe, and
-- the scan may win: every lookup then reads every row of the tenant (seen on a
-- Citus worker, docs/scale.md). Without statistics on tenant_id the planner
-- takes one tenant for 1/200 of the table, more than one row on any table past
-- 400 rows, and the probe is the cheaper plan by its own count (decisions §42).
--
-- ANALYZE skips a column whose target is 0 but leaves what it gathered
-- before, so those statistics are deleted too where this role may (a
-- superuser); otherwise DELETE them as one, see docs/scale.md.
--
-- On Citus the coordinator holds the shards' definition: the target set here
-- is copied to every shard made later, and shards made before this migration
-- get it through run_command_on_shards (Citus does not propagate SET
-- STATISTICS, so its propagation is turned off for this ALTER).
SET LOCAL citus.enable_ddl_propagation = off;
ALTER TABLE orders ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE journal_transactions ALTER COLUMN tenant_id SET STATISTICS 0;

DO $$
DECLARE
  target regclass;
  may_delete boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  sharded boolean := false;
BEGIN
  FOREACH target IN ARRAY ARRAY['orders', 'journal_transactions']::regclass[] LOOP
    IF may_delete THEN
      DELETE FROM pg_statistic s USING pg_attribute a
       WHERE s.starelid = target AND a.attrelid = s.starelid AND a.attnum = s.staattnum
         AND a.attname = 'tenant_id';
    END IF;
    -- Parsed only where Citus is installed: plain PostgreSQL has no such catalog.
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
      sharded := EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = target);
    END IF;
    IF sharded THEN
      IF EXISTS (SELECT 1 FROM run_command_on_shards(target,
                   'ALTER TABLE %s ALTER COLUMN tenant_id SET STATISTICS 0') WHERE NOT success) THEN
        RAISE EXCEPTION 'SET STATISTICS failed on a shard of %', target;
      END IF;
      IF may_delete AND EXISTS (SELECT 1 FROM run_command_on_shards(target,
           $q$DELETE FROM pg_statistic s USING pg_attribute a WHERE s.starelid = '%s'::regclass
                AND a.attrelid = s.starelid AND a.attnum = s.staattnum AND a.attname = 'tenant_id'$q$)
         WHERE NOT success) THEN
        RAISE EXCEPTION 'deleting statistics failed on a shard of %', target;
      END IF;
    END IF;
  END LOOP;
END $$;
