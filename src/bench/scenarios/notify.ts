import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startEventSequencer } from "../../service/events/event-sequencer.ts";
import { type Dispatcher, startDispatcher } from "../../service/notifications/dispatcher.ts";
import { createEndpoint } from "../../service/notifications/endpoints.ts";
import { Mailer, mailConfigFromEnv } from "../../service/notifications/mailer.ts";
import { batchScenario } from "./batch.ts";
import type { Scenario, ScenarioEnv } from "./types.ts";
import { report } from "./types.ts";

// `batch` with notifications on: one webhook endpoint on a loopback receiver
// subscribed to order.booked, with the event sequencer and the dispatcher
// running as `clearsplit serve` runs them. Run it beside `batch` in the same
// bench to compare throughput; it samples the dispatcher's backlog (booked
// orders not yet delivered to the endpoint) and, after the run, how long the
// backlog takes to drain. The backlog is counted in this process (orders the
// run booked, distinct webhook-ids the receiver got), not by counting rows:
// counting two growing tables every 250 ms took half a core of PostgreSQL from
// the booking it measures. The database is asked once, at the end.

export const drain_timeout_ms = 120_000;
/** The backlog must drain within this long after the run: "within seconds" (issue 17). */
export const drain_ms_max = 15_000;
const drain_poll_ms = 20;
/** The report gives the backlog's peak per window of this long, to show whether it grew through the run. */
export const backlog_window_ms = 5_000;

export function notifyScenario(env: ScenarioEnv): Scenario {
  const inner = batchScenario(env);
  let receiver: Server | null = null;
  let received = 0;
  const delivered = new Set<string>();
  let booked = 0;
  let dispatcher: Dispatcher | null = null;
  let sequencer: { stop(): Promise<void> } | null = null;
  let backlog_max = 0;
  let sampling_from: number | null = null;
  const backlog_windows: number[] = [];
  // Orders booked before the endpoint existed are not its to deliver (it starts at the stream's end).
  let orders_before = 0;
  const orderCount = async (): Promise<number> => {
    const [row] = await env.ctx.db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM orders WHERE tenant_id = $1",
      [env.tenant_id],
    );
    return Number(row?.n ?? 0);
  };
  /** Orders booked and not yet received (a delivery may arrive before its booking's answer). */
  const backlog = (): number => Math.max(0, booked - delivered.size);
  /** Where the backlog sits: events not numbered yet, numbered but not fanned out, deliveries waiting. */
  const stages = async (): Promise<string> => {
    const [row] = await env.ctx.db.query<{ unsequenced: bigint; unfanned: bigint; waiting: bigint }>(
      `SELECT (SELECT count(*) FROM events e WHERE e.tenant_id = $1 AND e.type = 'order.booked'
                 AND NOT EXISTS (SELECT 1 FROM event_seqs s WHERE s.tenant_id = e.tenant_id AND s.event_id = e.id))::int8 AS unsequenced,
              (SELECT count(*) FROM event_seqs s WHERE s.tenant_id = $1
                 AND s.seq > coalesce((SELECT last_seq FROM notification_cursors c WHERE c.tenant_id = $1 AND c.channel = 'webhooks'), 0))::int8 AS unfanned,
              ((SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = $1 AND d.status = 'pending')
                + (SELECT count(*) FROM webhook_queue q WHERE q.tenant_id = $1))::int8 AS waiting`,
      [env.tenant_id],
    );
    return `${row?.unsequenced ?? 0} not numbered, ${row?.unfanned ?? 0} not fanned out, ${row?.waiting ?? 0} deliveries waiting`;
  };
  /** Where the deliveries stand: by status, with the commonest error of those not succeeded. */
  const deliveryStates = async (): Promise<string> => {
    const rows = await env.ctx.db.query<{
      status: string;
      n: bigint;
      error: string | null;
      attempts: number;
    }>(
      `SELECT status, count(*)::int8 AS n, max(attempts)::int4 AS attempts,
              mode() WITHIN GROUP (ORDER BY last_error) AS error
         FROM (SELECT status, attempts, last_error FROM webhook_deliveries WHERE tenant_id = $1
               UNION ALL SELECT 'pending', 0, NULL FROM webhook_queue WHERE tenant_id = $1) d
        GROUP BY status ORDER BY status`,
      [env.tenant_id],
    );
    return rows
      .map(
        (row) =>
          `${row.status} ${row.n} (attempts ≤ ${row.attempts}${row.error ? `, ${row.error.slice(0, 80)}` : ""})`,
      )
      .join("; ");
  };
  return {
    workers: inner.workers,
    async step(worker) {
      const outcome = await inner.step(worker);
      booked += outcome.orders;
      return outcome;
    },
    async start() {
      receiver = createServer((request, response) => {
        request.resume();
        request.on("end", () => {
          received++;
          delivered.add(String(request.headers["webhook-id"]));
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver!.listen(0, "127.0.0.1", resolve));
      const port = (receiver.address() as AddressInfo).port;
      process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
      orders_before = await orderCount();
      await createEndpoint(
        env.ctx,
        { tenant_id: env.tenant_id, role: "platform_admin", party_id: null, actor: "key:bench" },
        { url: `http://127.0.0.1:${port}/bench`, event_types: ["order.booked"] },
      );
      sequencer = startEventSequencer(env.ctx, {
        on_error: (error) => report(env, `event sequencer: ${String(error)}`),
      });
      dispatcher = startDispatcher(env.ctx, {
        allow_private: true,
        mailer: new Mailer({ ...mailConfigFromEnv(), smtp_url: null }),
        on_error: (error, tenant) => report(env, `dispatcher ${tenant}: ${String(error)}`),
      });
    },
    async sample() {
      const now = performance.now();
      sampling_from ??= now;
      const window = Math.floor((now - sampling_from) / backlog_window_ms);
      backlog_windows[window] = Math.max(backlog_windows[window] ?? 0, backlog());
      backlog_max = Math.max(backlog_max, backlog());
    },
    async finish() {
      const stopped_ms = performance.now();
      const at_stop = backlog();
      const stage_at_stop = await stages();
      // Every order the tenant has, whoever booked it, must reach the receiver.
      const orders = (await orderCount()) - orders_before;
      let left = orders - delivered.size;
      while (left > 0 && performance.now() - stopped_ms < drain_timeout_ms) {
        await new Promise((resolve) => setTimeout(resolve, drain_poll_ms));
        left = orders - delivered.size;
      }
      const drain_ms = Math.round(performance.now() - stopped_ms);
      const states = await deliveryStates();
      if (left > 0)
        report(
          env,
          `notify: ${left} orders still undelivered ${drain_timeout_ms} ms after the run (${states})`,
        );
      else if (drain_ms > drain_ms_max)
        report(
          env,
          `notify: the backlog took ${drain_ms} ms to drain after the run, more than ${drain_ms_max} ms`,
        );
      await dispatcher?.stop();
      await sequencer?.stop();
      await new Promise<void>((resolve) => (receiver === null ? resolve() : receiver.close(() => resolve())));
      return [
        `notify: webhook backlog max ${backlog_max} orders while booking (peak per ${backlog_window_ms / 1_000} s: ${[...backlog_windows].map((n) => n ?? 0).join(", ")}), ${at_stop} at the end, drained in ${drain_ms} ms; at the end ${stage_at_stop}; receiver got ${received} requests; deliveries: ${states}`,
      ];
    },
  };
}
