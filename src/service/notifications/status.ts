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
  const cursors = await ctx.db.query<{ channel: string; last_seq: bigint; updated_at: Date }>(
    "SELECT channel, last_seq, updated_at FROM notification_cursors WHERE tenant_id = $1",
    [tenant_id],
  );
  const channels = (["people", "webhooks"] as const).map((channel) => {
    const row = cursors.find((cursor) => cursor.channel === channel);
    const last_seq = row === undefined ? 0n : BigInt(row.last_seq);
    return { channel, last_seq, backlog: latest - last_seq, updated_at: row?.updated_at ?? null };
  });
  const now = ctx.now();
  const [hooks] = await ctx.db.query<Record<string, bigint | Date | null>>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int8 AS pending,
            count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= $2)::int8 AS due,
            count(*) FILTER (WHERE status = 'dead')::int8 AS dead,
            count(*) FILTER (WHERE status = 'succeeded')::int8 AS succeeded,
            min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending_at
       FROM webhook_deliveries WHERE tenant_id = $1`,
    [tenant_id, now],
  );
  const [mail] = await ctx.db.query<Record<string, bigint | Date | string | null>>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int8 AS pending,
            count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int8 AS retrying,
            count(*) FILTER (WHERE status = 'failed')::int8 AS failed,
            count(*) FILTER (WHERE status = 'sent')::int8 AS sent,
            count(*) FILTER (WHERE status = 'kept')::int8 AS kept,
            min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at
       FROM email_messages WHERE tenant_id = $1`,
    [tenant_id],
  );
  const [error] = await ctx.db.query<{ last_error: string; last_attempt_at: Date }>(
    `SELECT last_error, last_attempt_at FROM email_messages
      WHERE tenant_id = $1 AND last_error IS NOT NULL AND status IN ('pending', 'failed')
      ORDER BY last_attempt_at DESC LIMIT 1`,
    [tenant_id],
  );
  const n = (value: unknown) => Number(value ?? 0);
  return {
    latest_seq: latest,
    channels,
    webhooks: {
      pending: n(hooks?.pending),
      due: n(hooks?.due),
      dead: n(hooks?.dead),
      succeeded: n(hooks?.succeeded),
      oldest_pending_at: (hooks?.oldest_pending_at as Date | null) ?? null,
    },
    email: {
      transport,
      pending: n(mail?.pending),
      retrying: n(mail?.retrying),
      failed: n(mail?.failed),
      sent: n(mail?.sent),
      kept: n(mail?.kept),
      last_error: error?.last_error ?? null,
      last_error_at: error?.last_attempt_at ?? null,
      next_attempt_at: (mail?.next_attempt_at as Date | null) ?? null,
    },
  };
}
