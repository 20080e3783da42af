import { startAuditRunner } from "../service/audit/runner.ts";
import type { ServiceContext } from "../service/context.ts";
import { startEventSequencer } from "../service/events/event-sequencer.ts";
import { natsOptionsFromEnv, startNatsPublisher } from "../service/events/nats-publisher.ts";
import { startDispatcher } from "../service/notifications/dispatcher.ts";
import { startScheduler } from "../service/scheduler.ts";
import { type LogKeyStore, startSequencer, witnessesFromEnv } from "../service/tlog/index.ts";

// The loops a server runs besides the API: the scheduler (completions,
// releases, settlement), the log and event sequencers, the notification
// dispatcher, the history audit runner and the NATS publisher. Each leads a
// tenant through an advisory lock and talks to no one but the database, so
// they run as well on the API's event loop (PGlite) as on a thread of their
// own (roles-thread.ts).

export interface BackgroundRoles {
  /** Stops each loop after the round it is in, in an order that leaves nothing half done. */
  stop(): Promise<void>;
}

export function startBackgroundRoles(ctx: ServiceContext, keys: LogKeyStore): BackgroundRoles {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const scheduler = startScheduler(ctx, {
    settle: true,
    on_error: (error, tenant_id) => log(`scheduler (${tenant_id}): ${String(error)}`),
  });
  const sequencer = startSequencer(ctx, {
    keys,
    witnesses: witnessesFromEnv(),
    on_error: (error, tenant_id) => log(`log sequencer (${tenant_id}): ${String(error)}`),
  });
  const events = startEventSequencer(ctx, {
    on_error: (error, tenant_id) => log(`event sequencer (${tenant_id}): ${String(error)}`),
  });
  const dispatcher =
    process.env.CLEARSPLIT_NOTIFICATIONS === "off"
      ? null
      : startDispatcher(ctx, {
          on_error: (error, tenant_id) => log(`dispatcher (${tenant_id}): ${String(error)}`),
        });
  // The history audit rules follow the sequenced event stream (docs/audit.md).
  const audit = startAuditRunner(ctx, {
    on_error: (error, tenant_id) => log(`audit runner (${tenant_id}): ${String(error)}`),
  });
  const nats_options = natsOptionsFromEnv();
  const nats = nats_options
    ? startNatsPublisher(ctx, {
        ...nats_options,
        on_error: (error) => log(`NATS publisher: ${String(error)}`),
      })
    : null;
  return {
    async stop() {
      const steps: [string, () => Promise<void>][] = [
        ["log sequencer", () => sequencer.stop()],
        ["event sequencer", () => events.stop()],
        ["notification dispatcher", async () => dispatcher?.stop()],
        ["audit runner", () => audit.stop()],
        ["NATS publisher", async () => nats?.stop()],
        ["scheduler", () => scheduler.stop()],
      ];
      const failed: string[] = [];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          failed.push(`${name}: ${String(error)}`);
        }
      }
      if (failed.length > 0) throw new Error(`stopping ${failed.join("; ")}`);
    },
  };
}
