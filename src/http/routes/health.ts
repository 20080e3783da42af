import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { loadMigrations, migration_lock_key } from "../../store/migrate.ts";
import { problem, sendProblem } from "../problem.ts";

const schema_version = loadMigrations().length;

/** Why the server cannot take traffic now, or null: the database unreachable, or its schema mid-migration. */
async function notReady(ctx: ServiceContext): Promise<string | null> {
  try {
    const [row] = await ctx.db.query<{ version: number | null; migrating: boolean }>(
      `SELECT (SELECT max(version) FROM schema_migrations) AS version,
              EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                       WHERE d.datname = current_database() AND l.locktype = 'advisory'
                         AND l.objid = $1 AND l.granted) AS migrating`,
      [migration_lock_key],
    );
    if (row?.migrating) return "database migrations are running";
    if (Number(row?.version ?? 0) < schema_version)
      return `the database schema is at version ${row?.version ?? 0}, this server needs ${schema_version}`;
    return null;
  } catch {
    return "the database is not reachable";
  }
}

export async function healthRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get(
    "/healthz",
    {
      config: { access: "public" },
      schema: {
        tags: ["ops"],
        summary: "Liveness: the process is up",
        response: { 200: { type: "object", properties: { status: { type: "string" } } } },
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/readyz",
    {
      config: { access: "public" },
      schema: {
        tags: ["ops"],
        summary: "Readiness: the database answers and is migrated",
        response: {
          200: { type: "object", properties: { status: { type: "string" }, backend: { type: "string" } } },
        },
      },
    },
    async (_request, reply) => {
      const why = await notReady(ctx);
      if (why === null) return { status: "ready", backend: ctx.db.backend };
      reply.header("retry-after", "1");
      return sendProblem(reply, problem("not_ready", why));
    },
  );
}
