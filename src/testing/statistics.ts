import { assert } from "../core/assert.ts";
import { newId } from "../core/ids.ts";
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import type { Database, Queryable } from "../store/database.ts";
import { inTransaction } from "../store/retry.ts";

// Putting a table's planner statistics in the state decisions §13 and §42
// guard against: analysed, every tenant it holds a most common value, and the
// tenant under test not among them, as for a new tenant that grows faster
// than autoanalyze runs, on one node or in a shard of many tenants on Citus.
// Then the planner estimates that tenant at one row, a scan of its orders
// through any index led by tenant_id costs what a primary-key probe costs,
// and which of them wins depends on nothing the query says.

/** Statistics target that samples the whole table and keeps every tenant as a most common value. */
const statistics_target_every_tenant = 10_000;
/** A filler tenant holds this many rows per tenant in the table, so tenants are few next to rows. */
const filler_rows_per_tenant = 10;

/**
 * A new tenant that Citus places in the same shard as `tenant_id` (any new
 * tenant on one node), made with ensureTenant: the shard whose statistics the
 * tenant's own queries are planned with.
 */
export async function colocatedTenant(ctx: ServiceContext, tenant_id: string): Promise<string> {
  const shardOf = async (id: string): Promise<string> => {
    const [row] = await ctx.db.query<{ shard: string }>(
      "SELECT get_shard_id_for_distribution_column('parties', $1::text)::text AS shard",
      [id],
    );
    return row!.shard;
  };
  const base = `stats-${newId().replaceAll("-", "").slice(-16)}`;
  let id = base;
  if (ctx.db.sharded === true) {
    const shard = await shardOf(tenant_id);
    const candidates_max = 1_000;
    let found: string | undefined;
    for (let index = 0; index < candidates_max && found === undefined; index++) {
      if ((await shardOf(`${base}-${index}`)) === shard) found = `${base}-${index}`;
    }
    assert(found !== undefined, `no tenant id among ${candidates_max} lands in shard ${shard}`);
    id = found;
  }
  await ensureTenant(ctx, { id, name: `statistics filler ${id}` });
  return id;
}

/**
 * How many rows a filler tenant needs in `table` so that the tenants there are
 * at most a tenth of its rows: then ANALYZE counts each tenant as a value of
 * its own rather than estimating a long tail of rare ones.
 */
export async function fillerRows(db: Queryable, table: string): Promise<number> {
  const [row] = await db.query<{ tenants: number }>(
    `SELECT count(DISTINCT tenant_id)::int4 AS tenants FROM ${table}`,
  );
  return filler_rows_per_tenant * ((row?.tenants ?? 0) + 1) + 1_000;
}

/**
 * ANALYZE of `table`'s tenant_id (its other columns' statistics are left as
 * they are) with a target that samples every row, so every tenant present is a
 * most common value and a tenant absent is estimated at one row. On Citus the
 * coordinator sends the ANALYZE to every shard, with the transaction's
 * SET LOCAL once citus.propagate_set_commands is 'local'.
 */
export async function analyseTenantColumn(db: Database, table: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    if (tx.sharded === true) await tx.query("SET LOCAL citus.propagate_set_commands = 'local'");
    await tx.query(`SET LOCAL default_statistics_target = ${statistics_target_every_tenant}`);
    await tx.query(`ANALYZE ${table} (tenant_id)`);
  });
}
