import { connect, headers, type JetStreamClient, type NatsConnection, nanos, StorageType } from "nats";
import { assert } from "../../core/assert.ts";
import { toJsonText } from "../../core/json.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import {
  advanceConsumerCursor,
  readConsumerCursor,
  readSequencedEvents,
  type SequencedEventRow,
  tenantsBehind,
} from "../../store/event-consumer-cursors-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";

// Publishes the commit-ordered event stream (event_seqs) to NATS JetStream for
// downstream systems (docs/integration.md §7). One leader per tenant per round
// through a transaction-scoped advisory lock, as the sequencers do. A round
// reads a batch after the tenant's durable cursor, publishes it with the event
// id as the JetStream message id (the stream drops a re-sent id within its
// duplicate window), waits for every ack, and only then moves the cursor in
// the same transaction. So delivery is at least once, in seq order, and a
// crash or an unreachable NATS re-sends from the cursor; booking never waits
// on any of this, since it only writes the events table.

export const nats_consumer = "nats";
export const nats_batch_max = 500;
export const nats_tenants_per_round_max = 100;
export const nats_interval_ms_default = 200;
export const nats_backoff_ms_max = 30_000;
export const nats_publish_timeout_ms = 5_000;
export const nats_connect_timeout_ms = 2_000;
/** Long enough to cover a restart after a crash between the acks and the cursor's commit. */
export const nats_duplicate_window_ms = 10 * 60_000;
export const nats_stream_default = "CLEARSPLIT";
export const nats_subject_prefix = "clearsplit";
// The advisory lock's first key: "ClearSplit NATS" (the sequencers use their own).
const nats_lock_class = 0x0c5e_0a75;

export interface NatsPublisherOptions {
  url: string;
  /** JetStream stream that takes `<subject_prefix>.>`; created when missing. */
  stream?: string;
  /** First subject token; `clearsplit` unless several deployments share one NATS. */
  subject_prefix?: string;
  interval_ms?: number;
  on_error?: (error: unknown) => void;
  /** Called after each published batch (tests and metrics). */
  on_published?: (tenant_id: string, count: number, last_seq: bigint) => void;
}

export interface NatsPublisher {
  stop(): Promise<void>;
  /** Runs one round now; resolves with how many events were published. */
  flush(): Promise<number>;
}

/** `clearsplit.<tenant>.<event type>`; characters NATS gives a meaning to become `_`. */
export function natsSubject(tenant_id: string, type: string, prefix = nats_subject_prefix): string {
  const safe_type = type
    .split(".")
    .map((token) => token.replace(/[^A-Za-z0-9_-]/g, "_") || "_")
    .join(".");
  return `${prefix}.${tenant_id}.${safe_type}`;
}

/** The message body: the event as the live stream shows it, with its tenant and seq. */
export function natsMessage(tenant_id: string, event: SequencedEventRow): Uint8Array {
  return new TextEncoder().encode(
    toJsonText({
      id: event.id,
      seq: event.seq,
      tenant_id,
      type: event.type,
      party_ids: event.party_ids,
      created_at: event.created_at,
      payload: event.payload,
    }),
  );
}

async function ensureStream(nc: NatsConnection, stream: string, prefix: string): Promise<void> {
  const manager = await nc.jetstreamManager();
  try {
    await manager.streams.info(stream);
  } catch {
    await manager.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      storage: StorageType.File,
      duplicate_window: nanos(nats_duplicate_window_ms),
    });
  }
}

/** Publishes one batch of one tenant inside `tx`; returns the count, 0 when another process leads. */
async function publishTenantBatch(
  ctx: ServiceContext,
  js: JetStreamClient,
  stream: string,
  prefix: string,
  tenant_id: string,
): Promise<{ count: number; last_seq: bigint }> {
  return inTransaction(ctx.db, async (tx) => {
    if (!(await tryTransactionLock(tx, nats_lock_class, tenant_id))) return { count: 0, last_seq: 0n };
    const cursor = await readConsumerCursor(tx, tenant_id, nats_consumer);
    const events = await readSequencedEvents(tx, tenant_id, cursor, nats_batch_max);
    if (events.length === 0) return { count: 0, last_seq: cursor };
    // Sent in seq order on one connection, so the stream stores them in that order;
    // the acks are awaited together.
    const acks = events.map((event) => {
      const message_headers = headers();
      message_headers.set("ClearSplit-Tenant", tenant_id);
      message_headers.set("ClearSplit-Seq", event.seq.toString());
      message_headers.set("ClearSplit-Event-Type", event.type);
      return js.publish(natsSubject(tenant_id, event.type, prefix), natsMessage(tenant_id, event), {
        msgID: event.id,
        headers: message_headers,
        expect: { streamName: stream },
        timeout: nats_publish_timeout_ms,
      });
    });
    await Promise.all(acks);
    const last = events[events.length - 1]!;
    assert(
      last.seq === cursor + BigInt(events.length),
      `event seqs of ${tenant_id} have a gap after ${cursor}`,
    );
    await advanceConsumerCursor(tx, tenant_id, nats_consumer, last.seq, ctx.now());
    return { count: events.length, last_seq: last.seq };
  });
}

/**
 * Starts the publisher in the background. It connects lazily and keeps
 * trying with a bounded backoff while NATS is unreachable; events wait in the
 * database meanwhile.
 */
export function startNatsPublisher(ctx: ServiceContext, options: NatsPublisherOptions): NatsPublisher {
  const stream = options.stream ?? nats_stream_default;
  const prefix = options.subject_prefix ?? nats_subject_prefix;
  assert(/^[A-Za-z0-9_-]{1,64}$/.test(prefix), `bad NATS subject prefix ${JSON.stringify(prefix)}`);
  const interval_ms = options.interval_ms ?? nats_interval_ms_default;
  assert(/^[A-Za-z0-9_-]{1,64}$/.test(stream), `bad JetStream stream name ${JSON.stringify(stream)}`);
  assert(
    Number.isFinite(interval_ms) && interval_ms >= 1,
    "the NATS publisher interval must be at least 1 ms",
  );
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> = Promise.resolve(0);

  const connected = async (): Promise<JetStreamClient> => {
    if (js !== null && nc !== null && !nc.isClosed()) return js;
    const fresh = await connect({
      servers: options.url,
      name: "clearsplit-publisher",
      timeout: nats_connect_timeout_ms,
      reconnect: true,
      maxReconnectAttempts: -1,
    });
    try {
      await ensureStream(fresh, stream, prefix);
    } catch (error) {
      await fresh.close();
      throw error;
    }
    nc = fresh;
    js = fresh.jetstream();
    return js;
  };

  const round = async (): Promise<number> => {
    const client = await connected();
    let total = 0;
    for (const behind of await tenantsBehind(ctx.db, nats_consumer, nats_tenants_per_round_max)) {
      // A full batch means more may be waiting: keep going while batches fill.
      for (;;) {
        const { count, last_seq } = await publishTenantBatch(ctx, client, stream, prefix, behind.tenant_id);
        if (count > 0) options.on_published?.(behind.tenant_id, count, last_seq);
        total += count;
        if (count < nats_batch_max || stopped) break;
      }
    }
    return total;
  };

  const guarded = async (): Promise<number> => {
    try {
      const count = await round();
      failures = 0;
      return count;
    } catch (error) {
      failures += 1;
      options.on_error?.(error);
      return 0;
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    const delay_ms =
      failures === 0 ? interval_ms : Math.min(nats_backoff_ms_max, interval_ms * 2 ** failures);
    timer = setTimeout(() => {
      running = guarded();
      void running.then(schedule);
    }, delay_ms);
  };
  schedule();

  return {
    async flush() {
      await running;
      return round();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
      if (nc !== null) await nc.drain().catch(() => nc?.close());
    },
  };
}

/** The publisher's options from the environment, or null when `CLEARSPLIT_NATS_URL` is unset. */
export function natsOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Omit<NatsPublisherOptions, "on_error"> | null {
  const url = env.CLEARSPLIT_NATS_URL;
  if (url === undefined || url === "") return null;
  return {
    url,
    ...(env.CLEARSPLIT_NATS_STREAM ? { stream: env.CLEARSPLIT_NATS_STREAM } : {}),
    ...(env.CLEARSPLIT_NATS_SUBJECT_PREFIX ? { subject_prefix: env.CLEARSPLIT_NATS_SUBJECT_PREFIX } : {}),
  };
}
