import type { Queryable } from "../../store/database.ts";
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

export interface DispatcherBacklog {
  /** Per channel, events numbered on the stream that the channel has not fanned out yet, over all tenants. */
  channels: Record<"people" | "webhooks", number>;
  /** Webhook deliveries waiting to be sent (first attempt or retry). */
  webhook_deliveries_pending: number;
  /** Mails waiting to be sent (first attempt or retry). */
  emails_pending: number;
}

async function backlogOnShards(
  db: Queryable,
): Promise<{ channel: string; backlog: bigint | string | null }[]> {
  const tenants = await db.query<{ id: string }>("SELECT id FROM tenants ORDER BY id");
  const totals = new Map<string, bigint>([
    ["people", 0n],
    ["webhooks", 0n],
  ]);
  for (const { id } of tenants) {
    const rows = await db.query<{ channel: string; backlog: bigint }>(
      `SELECT c.channel, greatest((SELECT coalesce(max(seq), 0) FROM event_seqs WHERE tenant_id = $1)
                                  - coalesce(n.last_seq, 0), 0)::int8 AS backlog
         FROM (VALUES ('people'), ('webhooks')) AS c(channel)
         LEFT JOIN notification_cursors n ON n.tenant_id = $1 AND n.channel = c.channel`,
      [id],
    );
    for (const row of rows) totals.set(row.channel, (totals.get(row.channel) ?? 0n) + BigInt(row.backlog));
  }
  return [...totals].map(([channel, backlog]) => ({ channel, backlog }));
}

/** The dispatcher's backlog over every tenant, for /metrics: an index probe per tenant, no scan of the stream. */
export async function dispatcherBacklog(db: Queryable): Promise<DispatcherBacklog> {
  // Citus (issue 20): no correlated subquery over the tenants reference table; each tenant's shard is asked.
  const rows =
    db.sharded === true
      ? await backlogOnShards(db)
      : await db.query<{ channel: string; backlog: bigint | string | null }>(
          `SELECT c.channel, sum(greatest(t.latest - coalesce(n.last_seq, 0), 0))::int8 AS backlog
       FROM (SELECT id, (SELECT coalesce(max(seq), 0) FROM event_seqs s WHERE s.tenant_id = tenants.id) AS latest
               FROM tenants) t
      CROSS JOIN (VALUES ('people'), ('webhooks')) AS c(channel)
       LEFT JOIN notification_cursors n ON n.tenant_id = t.id AND n.channel = c.channel
      GROUP BY c.channel`,
        );
  const [queues] = await db.query<{ hooks: bigint | string; mails: bigint | string }>(
    `SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')::int8 AS hooks,
            (SELECT count(*) FROM email_messages WHERE status = 'pending')::int8 AS mails`,
  );
  const of = (channel: string) => Number(rows.find((row) => row.channel === channel)?.backlog ?? 0);
  return {
    channels: { people: of("people"), webhooks: of("webhooks") },
    webhook_deliveries_pending: Number(queues?.hooks ?? 0),
    emails_pending: Number(queues?.mails ?? 0),
  };
}
