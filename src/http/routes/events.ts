import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readScopeOf } from "../../core/auth/scope.ts";
import { toJsonText } from "../../core/json.ts";
import type { ServiceContext } from "../../service/context.ts";
import { latestEventSeq, readEventsAfter } from "../../service/events/event-feed.ts";
import { userOf } from "../../service/notifications/inbox.ts";
import { principalOf } from "../authenticate.ts";
import { problem, sendProblem } from "../problem.ts";
import { type StreamClient, StreamHub, streamLimitsFromEnv } from "../stream-hub.ts";

const seq_pattern = /^\d{1,18}$/;

/**
 * `GET /v1/events/stream`: Server-Sent Events of every sequenced change the
 * caller may see, `id:` = the event's seq. Resumes after `Last-Event-ID`
 * (header, or `last_event_id` in the query) from the durable events table.
 */
export async function eventRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const hub = new StreamHub(ctx.db, streamLimitsFromEnv());
  app.addHook("preClose", async () => hub.closeAll());

  app.get<{ Querystring: { last_event_id?: string } }>(
    "/v1/events/stream",
    {
      schema: {
        tags: ["events"],
        summary: "Live stream (SSE) of the changes visible to the caller; resumable with Last-Event-ID",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { last_event_id: { type: "string", pattern: "^[0-9]{1,18}$" } },
        },
        response: {
          200: {
            description:
              "text/event-stream: `id: <seq>`, `event: <type>`, `data: {id, seq, type, payload, created_at}`",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
        },
      },
    },
    async (request, reply) => {
      const header = request.headers["last-event-id"];
      const resume = (Array.isArray(header) ? header[0] : header) ?? request.query.last_event_id;
      if (resume !== undefined && !seq_pattern.test(resume)) {
        return sendProblem(
          reply,
          problem("last_event_id_invalid", "Last-Event-ID must be a seq this stream sent", "Last-Event-ID"),
        );
      }
      const principal = principalOf(request);
      if (hub.connections >= hub.limits.connections_max) {
        reply.header("retry-after", "5");
        return sendProblem(
          reply,
          problem("stream_full", "too many live streams on this server; retry shortly"),
        );
      }
      // HEAD asks whether the stream would open: the headers, and no stream to hold open.
      if (request.method === "HEAD") {
        return reply
          .status(200)
          .header("content-type", "text/event-stream")
          .header("cache-control", "no-cache")
          .send();
      }
      const cursor =
        resume === undefined ? await latestEventSeq(ctx.db, principal.tenant_id) : BigInt(resume);
      return streamTo(request, reply, hub, ctx, cursor);
    },
  );
}

async function streamTo(
  request: FastifyRequest,
  reply: FastifyReply,
  hub: StreamHub,
  ctx: ServiceContext,
  start: bigint,
): Promise<void> {
  const scope = readScopeOf(principalOf(request));
  const user_id = userOf(principalOf(request));
  const raw = reply.raw;
  let closed = false;
  // A wake that arrives while a page is being read is kept, not lost.
  let woken_pending = false;
  let resolve_wait: (() => void) | null = null;
  const wake = (): void => {
    woken_pending = true;
    resolve_wait?.();
  };
  const client: StreamClient = {
    tenant_id: scope.tenant_id,
    wake,
    close: () => {
      closed = true;
      raw.end();
      wake();
    },
  };
  if (!hub.join(client)) {
    reply.header("retry-after", "5");
    await sendProblem(reply, problem("stream_full", "too many live streams on this server; retry shortly"));
    return;
  }
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.write("retry: 2000\n\n");
  request.raw.on("close", () => {
    closed = true;
    wake();
  });
  let cursor = start;
  const limits = hub.limits;
  try {
    while (!closed) {
      const events = await readEventsAfter(ctx.db, scope, cursor, limits.page_max, user_id);
      for (const event of events) {
        const data = toJsonText({
          id: event.id,
          seq: event.seq,
          type: event.type,
          payload: event.payload,
          created_at: event.created_at,
        });
        raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`);
        cursor = event.seq;
      }
      if (!(await drained(raw, limits.buffer_max_bytes, limits.drain_timeout_ms))) {
        // A slow reader: drop it rather than buffer without bound. It resumes with Last-Event-ID.
        raw.destroy();
        break;
      }
      if (events.length === limits.page_max) continue;
      if (!woken_pending) {
        const reason = await new Promise<"wake" | "heartbeat">((resolve) => {
          const timer = setTimeout(() => resolve("heartbeat"), limits.heartbeat_ms);
          resolve_wait = () => {
            clearTimeout(timer);
            resolve("wake");
          };
        });
        resolve_wait = null;
        if (reason === "heartbeat" && !closed) raw.write(": heartbeat\n\n");
      }
      woken_pending = false;
    }
  } catch (error) {
    request.log.warn({ err: error }, "event stream ended by an error");
    raw.destroy();
  } finally {
    hub.leave(client);
    if (!raw.writableEnded) raw.end();
  }
}

/** Waits until the socket buffer is under the bound; false when it stays over it past the timeout. */
function drained(raw: ServerResponse, buffer_max_bytes: number, timeout_ms: number): Promise<boolean> {
  if (raw.destroyed) return Promise.resolve(false);
  if (raw.writableLength <= buffer_max_bytes) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      raw.off("drain", onDrain);
      resolve(false);
    }, timeout_ms);
    const onDrain = () => {
      clearTimeout(timer);
      resolve(true);
    };
    raw.once("drain", onDrain);
  });
}
