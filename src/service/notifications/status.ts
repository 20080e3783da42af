import type { Queryable } from "../../store/database.ts";
import { countPendingMails, selectMailCounts } from "../../store/email-messages-sql.ts";
import { selectChannelBacklogs, selectCursors } from "../../store/notification-cursors-sql.ts";
import { countPendingDeliveries, selectDeliveryCounts } from "../../store/webhook-deliveries-sql.ts";
import type { ServiceContext } from "../context.ts";
import { latestSeq } from "./stream-batch.ts";

// What an operator needs to see that notifications flow: each channel's
// backlog behind the event stream, the webhook queue, and the mail queue with
// its last error (an unreachable SMTP server shows here, not as a crash loop).

export interface NotificationStatus {
  latest_seq: bigint;
  channels: { channel: string; last_seq: bigint; backlog: bigint; updated_at: Date | null }[];
  webhooks: { pending: number; due: number; dead: number; succeeded: number; oldest_pending_at: Date | null };
  email: {
    transport: "smtp" | "eml";
    pending: number;
    retrying: number;
    failed: number;
    sent: number;
    kept: number;
    last_error: string | null;
    last_error_at: Date | null;
    next_attempt_at: Date | null;
  };
}

export async function notificationStatus(
  ctx: ServiceContext,
  tenant_id: string,
  transport: "smtp" | "eml",
): Promise<NotificationStatus> {
  const latest = await latestSeq(ctx.db, tenant_id);
  const cursors = await selectCursors(ctx.db, tenant_id);
  const channels = (["people", "webhooks"] as const).map((channel) => {
    const row = cursors.find((cursor) => cursor.channel === channel);
    const last_seq = row === undefined ? 0n : BigInt(row.last_seq);
    return { channel, last_seq, backlog: latest - last_seq, updated_at: row?.updated_at ?? null };
  });
  const webhooks = await selectDeliveryCounts(ctx.db, tenant_id, ctx.now());
  const mail = await selectMailCounts(ctx.db, tenant_id);
  return { latest_seq: latest, channels, webhooks, email: { transport, ...mail } };
}

export interface DispatcherBacklog {
  /** Per channel, events numbered on the stream that the channel has not fanned out yet, over all tenants. */
  channels: Record<"people" | "webhooks", number>;
  /** Webhook deliveries waiting to be sent (first attempt or retry). */
  webhook_deliveries_pending: number;
  /** Mails waiting to be sent (first attempt or retry). */
  emails_pending: number;
}

/** The dispatcher's backlog over every tenant, for /metrics: an index probe per tenant, no scan of the stream. */
export async function dispatcherBacklog(db: Queryable): Promise<DispatcherBacklog> {
  const backlogs = await selectChannelBacklogs(db, ["people", "webhooks"]);
  const of = (channel: string) => backlogs.find((row) => row.channel === channel)?.backlog ?? 0;
  return {
    channels: { people: of("people"), webhooks: of("webhooks") },
    webhook_deliveries_pending: await countPendingDeliveries(db),
    emails_pending: await countPendingMails(db),
  };
}
