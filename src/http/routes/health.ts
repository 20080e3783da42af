import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { loadMigrations, schemaState } from "../../store/migrate.ts";
import { problem, sendProblem } from "../problem.ts";

const schema_version = loadMigrations().length;

/** Why the server cannot take traffic now, or null: the database unreachable, or its schema mid-migration. */
async function notReady(ctx: ServiceContext): Promise<string | null> {
  try {
    const state = await schemaState(ctx.db);
    if (state.migrating) return "database migrations are running";
    if (state.version < schema_version)
      return `the database schema is at version ${state.version}, this server needs ${schema_version}`;
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
