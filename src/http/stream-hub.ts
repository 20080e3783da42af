import { assert } from "../core/assert.ts";
import type { Database } from "../store/database.ts";
import { latestEventSeqs } from "../store/events-sql.ts";

// One poller per process for the live stream: for each tenant with connected
// clients it reads the tenant's highest seq every `poll_ms`, and wakes that
// tenant's clients when it moves. Clients then read their own scoped pages, so
// the database sees one cheap query per tenant per poll, not one per client.

export interface StreamLimits {
  heartbeat_ms: number;
  poll_ms: number;
  connections_max: number;
  /** A client whose socket buffer stays above `buffer_max_bytes` this long is dropped. */
  drain_timeout_ms: number;
  buffer_max_bytes: number;
  page_max: number;
}

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  assert(Number.isFinite(value) && value >= 1, `${name} must be a positive number`);
  return value;
}

/** Limits from the environment (CLEARSPLIT_SSE_*), read when the routes register. */
export function streamLimitsFromEnv(): StreamLimits {
  return {
    heartbeat_ms: envNumber("CLEARSPLIT_SSE_HEARTBEAT_MS", 15_000),
    poll_ms: envNumber("CLEARSPLIT_SSE_POLL_MS", 250),
    connections_max: envNumber("CLEARSPLIT_SSE_CONNECTIONS_MAX", 200),
    drain_timeout_ms: envNumber("CLEARSPLIT_SSE_DRAIN_TIMEOUT_MS", 10_000),
    buffer_max_bytes: envNumber("CLEARSPLIT_SSE_BUFFER_MAX_BYTES", 256 * 1024),
    page_max: 100,
  };
}

export interface StreamClient {
  tenant_id: string;
  wake(): void;
  close(): void;
}

export class StreamHub {
  private readonly tenants = new Map<string, { clients: Set<StreamClient>; seq: bigint }>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  connections = 0;

  constructor(
    private readonly db: Database,
    readonly limits: StreamLimits,
  ) {}

  /** Adds a client, or returns false when the process is at its connection bound. */
  join(client: StreamClient): boolean {
    if (this.connections >= this.limits.connections_max) return false;
    this.connections += 1;
    const entry = this.tenants.get(client.tenant_id) ?? { clients: new Set(), seq: -1n };
    entry.clients.add(client);
    this.tenants.set(client.tenant_id, entry);
    if (this.timer === null) this.timer = setInterval(() => void this.poll(), this.limits.poll_ms);
    return true;
  }

  leave(client: StreamClient): void {
    const entry = this.tenants.get(client.tenant_id);
    if (entry === undefined || !entry.clients.delete(client)) return;
    this.connections -= 1;
    assert(this.connections >= 0, "stream connection count went negative");
    if (entry.clients.size === 0) this.tenants.delete(client.tenant_id);
    if (this.tenants.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const entry of [...this.tenants.values()]) for (const client of [...entry.clients]) client.close();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const ids = [...this.tenants.keys()];
      if (ids.length === 0) return;
      const rows = await latestEventSeqs(this.db, ids);
      for (const row of rows) {
        const entry = this.tenants.get(row.tenant_id);
        if (entry === undefined || row.seq === entry.seq) continue;
        entry.seq = row.seq;
        for (const client of entry.clients) client.wake();
      }
    } catch {
      // The next poll retries; clients keep their cursors and heartbeats.
    } finally {
      this.polling = false;
    }
  }
}
