import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { idempotency_key_length_max } from "../core/ledger/ledger-limits.ts";
import type { ServiceContext } from "../service/context.ts";
import { insertStoredResponse, selectStoredResponse } from "../store/http-idempotency-sql.ts";
import { problem, sendProblem } from "./problem.ts";

declare module "fastify" {
  interface FastifyRequest {
    idempotency: { key: string; request_sha256: string } | null;
  }
}

const write_methods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * `Idempotency-Key` on writes: a replay of the same request returns the stored
 * response with `Idempotent-Replayed: true`; the same key with a different
 * request is a 409. Two identical requests racing each other both run; the
 * domain's own idempotency (order ids, journal keys) makes the second a replay.
 */
export function installIdempotency(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest("idempotency", null);
  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    if (!write_methods.has(request.method) || request.principal === null) return;
    const raw = request.headers["idempotency-key"];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length === 0 || key.length > idempotency_key_length_max) {
      return sendProblem(
        reply,
        problem(
          "idempotency_key_invalid",
          `Idempotency-Key must be 1 to ${idempotency_key_length_max} characters`,
          "Idempotency-Key",
        ),
      );
    }
    // A streamed upload (a provider bill) cannot be hashed before its handler
    // reads it; those routes are idempotent by the file's own SHA-256, so the
    // key is accepted and the route's replay answers.
    if (isStream(request.body)) return;
    const request_sha256 = createHash("sha256")
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest("hex");
    const tenant_id = request.principal.tenant_id;
    const stored = await selectStoredResponse(ctx.db, tenant_id, key);
    if (stored !== undefined) {
      if (stored.request_sha256 !== request_sha256) {
        return sendProblem(
          reply,
          problem(
            "idempotency_key_conflict",
            `Idempotency-Key ${JSON.stringify(key)} was used for a different request`,
            "Idempotency-Key",
          ),
        );
      }
      const type = stored.status_code >= 400 ? "application/problem+json" : "application/json; charset=utf-8";
      return reply
        .status(Number(stored.status_code))
        .header("idempotent-replayed", "true")
        .type(type)
        .send(stored.response_body);
    }
    request.idempotency = { key, request_sha256 };
  });
  app.addHook("onSend", async (request, reply, payload) => {
    const pending = request.idempotency;
    const principal = request.principal;
    if (!pending || !principal || reply.statusCode >= 500 || typeof payload !== "string") return payload;
    await insertStoredResponse(ctx.db, {
      tenant_id: principal.tenant_id,
      idempotency_key: pending.key,
      request_sha256: pending.request_sha256,
      status_code: reply.statusCode,
      response_body: payload,
      created_at: ctx.now(),
    });
    return payload;
  });
}

function isStream(body: unknown): boolean {
  return typeof body === "object" && body !== null && typeof (body as { pipe?: unknown }).pipe === "function";
}
