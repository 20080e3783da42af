import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ServiceContext } from "../service/context.ts";
import { type DispatcherBacklog, dispatcherBacklog } from "../service/notifications/status.ts";
import { group_commit_channel } from "../service/orders/group-commit.ts";
import { unnumberedEventCount } from "../store/events-sql.ts";
import { unsequencedRecordCount } from "../store/log-records-sql.ts";
import { mediaResponse, text_body } from "./schemas.ts";

// GET /metrics in Prometheus text format: requests by route and status with
// their latency, group-commit batch sizes, the sequencers' backlog, and the
// database pool's use. One registry per app, so tests can build many apps.
// Labels are route templates, never raw URLs: no ids, no tenant, bounded.

const latency_buckets_s = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const batch_buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export function installMetrics(app: FastifyInstance, ctx: ServiceContext): void {
  const registry = new Registry();
  const requests = new Counter({
    name: "clearsplit_http_requests_total",
    help: "HTTP requests answered, by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "clearsplit_http_request_duration_seconds",
    help: "Time from request to response, by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: latency_buckets_s,
    registers: [registry],
  });
  const batches = new Histogram({
    name: "clearsplit_group_commit_batch_size",
    help: "Orders per group-commit batch",
    buckets: batch_buckets,
    registers: [registry],
  });
  new Gauge({
    name: "clearsplit_log_sequencer_backlog",
    help: "Log records queued but not yet a leaf of their tenant's log (the log sequencer's lag)",
    registers: [registry],
    async collect() {
      this.set(await backlog(() => unsequencedRecordCount(ctx.db)));
    },
  });
  new Gauge({
    name: "clearsplit_event_sequencer_backlog",
    help: "Events stored but not yet numbered for the event stream (the event sequencer's lag)",
    registers: [registry],
    async collect() {
      this.set(await backlog(() => unnumberedEventCount(ctx.db)));
    },
  });
  new Gauge({
    name: "clearsplit_notification_dispatcher_backlog",
    help: "Events on the stream that a notification channel (people: inbox and e-mail; webhooks) has not fanned out yet",
    labelNames: ["channel"] as const,
    registers: [registry],
    async collect() {
      const backlog = await dispatcherBacklogOrNull(ctx);
      for (const channel of ["people", "webhooks"] as const)
        this.set({ channel }, backlog?.channels[channel] ?? Number.NaN);
    },
  });
  new Gauge({
    name: "clearsplit_notification_queue_pending",
    help: "Webhook deliveries and e-mails waiting to be sent (first attempt or retry)",
    labelNames: ["queue"] as const,
    registers: [registry],
    async collect() {
      const backlog = await dispatcherBacklogOrNull(ctx);
      this.set({ queue: "webhook" }, backlog?.webhook_deliveries_pending ?? Number.NaN);
      this.set({ queue: "email" }, backlog?.emails_pending ?? Number.NaN);
    },
  });
  new Gauge({
    name: "clearsplit_db_pool_connections_in_use",
    help: "Database connections busy with a query or transaction",
    registers: [registry],
    collect() {
      this.set(ctx.db.poolUse?.().in_use ?? 0);
    },
  });
  new Gauge({
    name: "clearsplit_db_pool_connections_max",
    help: "Size of the database connection pool (1 on embedded PGlite)",
    registers: [registry],
    collect() {
      this.set(ctx.db.poolUse?.().max ?? 1);
    },
  });

  const on_batch = (message: unknown) => batches.observe((message as { size: number }).size);
  subscribe(group_commit_channel.name, on_batch);
  app.addHook("onClose", async () => {
    unsubscribe(group_commit_channel.name, on_batch);
  });
  app.addHook("onResponse", async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  app.get(
    "/metrics",
    {
      config: { access: "public" },
      schema: {
        tags: ["ops"],
        summary: "Prometheus metrics (text exposition format)",
        response: { 200: mediaResponse("Prometheus text exposition", { "text/plain": text_body }) },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

async function dispatcherBacklogOrNull(ctx: ServiceContext): Promise<DispatcherBacklog | null> {
  try {
    return await dispatcherBacklog(ctx.db);
  } catch {
    return null;
  }
}

async function backlog(count: () => Promise<number>): Promise<number> {
  try {
    return await count();
  } catch {
    return Number.NaN;
  }
}
