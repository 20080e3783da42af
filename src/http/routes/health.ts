import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { problem, sendProblem } from "../problem.ts";

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
      try {
        await ctx.db.query("SELECT 1 FROM schema_migrations LIMIT 1");
        return { status: "ready", backend: ctx.db.backend };
      } catch {
        return sendProblem(reply, problem("not_ready", "the database is not reachable"));
      }
    },
  );
}
