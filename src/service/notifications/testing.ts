import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Principal, Role } from "../../core/auth/roles.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { type EventInput, enqueueEvents } from "../events/event-enqueue.ts";
import { sequenceEventsOnce } from "../events/event-sequencer.ts";
import { type DispatcherDeps, dispatchTenant } from "./dispatcher.ts";
import { type MailConfig, Mailer } from "./mailer.ts";

// Test support for the notification suites: principals, events written and
// sequenced as business transactions would, and a dispatcher driven by hand.

export function principal(
  tenant_id: string,
  role: Role,
  party_id: string | null = null,
  actor = `key:${role}`,
): Principal {
  return { tenant_id, role, party_id, actor };
}

export function testMailConfig(overrides: Partial<MailConfig> = {}): MailConfig {
  return {
    smtp_url: null,
    from: "ClearSplit <noreply@clearsplit.test>",
    eml_dir: mkdtempSync(join(tmpdir(), "clearsplit-mail-")),
    tls_reject_unauthorized: true,
    backoff_ms: 20,
    lease_ms: 60_000,
    ...overrides,
  };
}

export function testDeps(overrides: Partial<DispatcherDeps> = {}): DispatcherDeps {
  return {
    retry_schedule_ms: [30, 30, 30],
    allow_private: true,
    mailer: new Mailer(testMailConfig()),
    ...overrides,
  };
}

/** Writes events in their own transaction and numbers them, as a business write and the sequencer would. */
export async function emit(ctx: ServiceContext, tenant_id: string, events: EventInput[]): Promise<void> {
  await inTransaction(ctx.db, (tx) => enqueueEvents(tx, tenant_id, events, ctx.now()));
  await sequenceEventsOnce(ctx);
}

/** Runs dispatcher rounds for one tenant until `done()` holds; throws after `timeout_ms`. */
export async function dispatchUntil(
  ctx: ServiceContext,
  tenant_id: string,
  deps: DispatcherDeps,
  done: () => boolean | Promise<boolean>,
  timeout_ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    await sequenceEventsOnce(ctx);
    await dispatchTenant(ctx, tenant_id, deps);
    if (await done()) return;
    if (Date.now() > deadline) throw new Error("dispatcher did not get there in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
