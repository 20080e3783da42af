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
// backlog takes to drain.

export const drain_timeout_ms = 120_000;

export function notifyScenario(env: ScenarioEnv): Scenario {
  const inner = batchScenario(env);
  let receiver: Server | null = null;
  let received = 0;
  let dispatcher: Dispatcher | null = null;
  let sequencer: { stop(): Promise<void> } | null = null;
  let backlog_max = 0;
  // Orders booked before the endpoint existed are not its to deliver (it starts at the stream's end).
  let orders_before = 0;
  const orderCount = async (): Promise<number> => {
    const [row] = await env.ctx.db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM orders WHERE tenant_id = $1",
      [env.tenant_id],
    );
    return Number(row?.n ?? 0);
  };
  const backlog = async (): Promise<number> => {
    const [row] = await env.ctx.db.query<{ n: bigint }>(
      `SELECT ((SELECT count(*) FROM orders WHERE tenant_id = $1)
             - (SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'succeeded'))::int8 AS n`,
      [env.tenant_id],
    );
    return Number(row?.n ?? 0) - orders_before;
  };
  /** Where the backlog sits: events not numbered yet, numbered but not fanned out, deliveries waiting. */
  const stages = async (): Promise<string> => {
    const [row] = await env.ctx.db.query<{ unsequenced: bigint; unfanned: bigint; waiting: bigint }>(
      `SELECT (SELECT count(*) FROM events e WHERE e.tenant_id = $1 AND e.type = 'order.booked'
                 AND NOT EXISTS (SELECT 1 FROM event_seqs s WHERE s.tenant_id = e.tenant_id AND s.event_id = e.id))::int8 AS unsequenced,
              (SELECT count(*) FROM event_seqs s WHERE s.tenant_id = $1
                 AND s.seq > coalesce((SELECT last_seq FROM notification_cursors c WHERE c.tenant_id = $1 AND c.channel = 'webhooks'), 0))::int8 AS unfanned,
              (SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = $1 AND d.status = 'pending')::int8 AS waiting`,
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
         FROM webhook_deliveries WHERE tenant_id = $1 GROUP BY status ORDER BY status`,
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
    step: (worker) => inner.step(worker),
    async start() {
      receiver = createServer((request, response) => {
        request.resume();
        request.on("end", () => {
          received++;
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
      backlog_max = Math.max(backlog_max, await backlog());
    },
    async finish() {
      const stopped_ms = performance.now();
      const stage_at_stop = await stages();
      let left = await backlog();
      const at_stop = left;
      while (left > 0 && performance.now() - stopped_ms < drain_timeout_ms) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        left = await backlog();
      }
      const drain_ms = Math.round(performance.now() - stopped_ms);
      const states = await deliveryStates();
      if (left > 0)
        report(
          env,
          `notify: ${left} orders still undelivered ${drain_timeout_ms} ms after the run (${states})`,
        );
      await dispatcher?.stop();
      await sequencer?.stop();
      await new Promise<void>((resolve) => (receiver === null ? resolve() : receiver.close(() => resolve())));
      return [
        `notify: webhook backlog max ${backlog_max} orders while booking, ${at_stop} at the end, drained in ${drain_ms} ms; at the end ${stage_at_stop}; receiver got ${received} requests; deliveries: ${states}`,
      ];
    },
  };
}
