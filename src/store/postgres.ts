import postgres from "postgres";
import { type Database, normaliseParams, type Queryable, type Row } from "./database.ts";

export interface PostgresOptions {
  connections_max?: number;
  /** Shown in pg_stat_activity: `serve` names its process, so a lock in pg_locks points at one. */
  application_name?: string;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const sql = postgres(url, {
    max: options.connections_max ?? 10,
    types: { bigint: postgres.BigInt },
    onnotice: () => {},
    prepare: true,
    connection: { application_name: options.application_name ?? "clearsplit" },
  });
  // Citus installed in this database: see Queryable.sharded.
  const [probe] = await sql`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`;
  const sharded = probe?.citus === true;

  function wrap(handle: postgres.Sql | postgres.TransactionSql): Queryable {
    return {
      sharded,
      async query<T extends Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
        const rows = await handle.unsafe(text, normaliseParams(params) as postgres.ParameterOrJSON<never>[], {
          prepare: true,
        });
        return rows as unknown as T[];
      },
    };
  }

  const direct = wrap(sql);
  const max = options.connections_max ?? 10;
  let in_use = 0;
  async function counted<T>(work: () => Promise<T>): Promise<T> {
    in_use++;
    try {
      return await work();
    } finally {
      in_use--;
    }
  }
  return {
    backend: "postgres",
    sharded,
    query: (text, params) => counted(() => direct.query(text, params)),
    transaction: (fn) =>
      counted(async () => (await sql.begin((tx) => fn(wrap(tx)))) as Awaited<ReturnType<typeof fn>>),
    poolUse: () => ({ in_use: Math.min(in_use, max), max }),
    exec: async (script) => void (await sql.unsafe(script)),
    close: () => sql.end({ timeout: 5 }),
  };
}
