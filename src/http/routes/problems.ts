import type { FastifyInstance } from "fastify";
import { error_catalogue, error_codes, isErrorCode } from "../../core/error-catalogue.ts";
import { renderProblemIndex, renderProblemPage } from "../../core/error-docs.ts";
import { path_param_length_max } from "../../core/limits.ts";
import type { ServiceContext } from "../../service/context.ts";
import { problem_type_schema } from "../capability-schemas.ts";
import { problem, sendProblem } from "../problem.ts";
import { itemsSchema, mediaResponse, text_body } from "../schemas.ts";

// Every problem's `type` is `/problems/{code}`: these public pages make that
// URI resolve to the code's documentation, read from the catalogue.
export async function problemRoutes(app: FastifyInstance, _ctx: ServiceContext): Promise<void> {
  app.get(
    "/problems",
    {
      config: { access: "public" },
      schema: {
        tags: ["ops"],
        response: {
          200: mediaResponse("The index", {
            "text/html": text_body,
            "application/json": itemsSchema(problem_type_schema),
          }),
        },
        summary: "Index of every error code (HTML, or JSON when asked for)",
        security: [],
      },
    },
    async (request, reply) => {
      if (wantsJson(request.headers.accept)) {
        return reply.type("application/json; charset=utf-8").send({
          items: error_codes.map((code) => ({ code, ...error_catalogue[code] })),
        });
      }
      return reply.type("text/html; charset=utf-8").send(renderProblemIndex());
    },
  );
  app.get<{ Params: { code: string } }>(
    "/problems/:code",
    {
      config: { access: "public" },
      schema: {
        tags: ["ops"],
        response: {
          200: mediaResponse("The code's page", {
            "text/html": text_body,
            "application/json": problem_type_schema,
          }),
        },
        summary: "Documentation of one error code (HTML, or JSON when asked for)",
        security: [],
        params: {
          type: "object",
          properties: { code: { type: "string", maxLength: path_param_length_max } },
          required: ["code"],
        },
      },
    },
    async (request, reply) => {
      const code = request.params.code;
      if (!isErrorCode(code)) return sendProblem(reply, problem("not_found", `no error code ${code}`));
      if (wantsJson(request.headers.accept)) {
        return reply.type("application/json; charset=utf-8").send({ code, ...error_catalogue[code] });
      }
      return reply.type("text/html; charset=utf-8").send(renderProblemPage(code));
    },
  );
}

function wantsJson(accept: string | undefined): boolean {
  return (accept?.includes("json") ?? false) && !accept?.includes("text/html");
}
