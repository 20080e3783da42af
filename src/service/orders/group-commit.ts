import { channel } from "node:diagnostics_channel";
import { isDomainError } from "../../core/errors.ts";
import {
  group_commit_inflight_max_pglite,
  group_commit_inflight_max_postgres,
  group_commit_orders_per_batch_default,
  group_commit_wait_ms_default,
} from "../../core/limits.ts";
import type { ServiceContext } from "../context.ts";
import { type BookResult, bookOrders, orders_per_batch_max } from "./book.ts";

export interface GroupCommitOptions {
  /** Most orders in one database transaction. */
  batch_max?: number;
  /** Longest a request waits for others to join its transaction. */
  wait_ms?: number;
  /** Transactions in flight at once per tenant (PGlite serialises them anyway). */
  inflight_max?: number;
}

interface Waiter {
  body: unknown;
  resolve: (result: BookResult) => void;
  reject: (error: unknown) => void;
}

interface TenantQueue {
  waiting: Waiter[];
  timer: NodeJS.Timeout | null;
  inflight: number;
}

/**
 * Coalesces concurrent single-order requests into one transaction of at most
 * `batch_max` orders or `wait_ms` of waiting. Each caller still gets its own
 * result. If a whole group fails for a reason that is not one order's fault
 * (a database error), each order is retried alone, so no order fails because
 * of another.
 */
/** One message per batch taken for commit: `{ size }`. */
export const group_commit_channel = channel("clearsplit.group_commit");

export class GroupCommitter {
  readonly #ctx: ServiceContext;
  readonly #batch_max: number;
  readonly #wait_ms: number;
  readonly #inflight_max: number;
  readonly #queues = new Map<string, TenantQueue>();

  constructor(ctx: ServiceContext, options: GroupCommitOptions = {}) {
    this.#ctx = ctx;
    this.#batch_max = Math.min(
      options.batch_max ?? group_commit_orders_per_batch_default,
      orders_per_batch_max,
    );
    this.#wait_ms = options.wait_ms ?? group_commit_wait_ms_default;
    this.#inflight_max =
      options.inflight_max ??
      (ctx.db.backend === "pglite" ? group_commit_inflight_max_pglite : group_commit_inflight_max_postgres);
  }

  submit(tenant_id: string, body: unknown): Promise<BookResult> {
    return new Promise((resolve, reject) => {
      const queue = this.#queue(tenant_id);
      queue.waiting.push({ body, resolve, reject });
      if (queue.waiting.length >= this.#batch_max) this.#flush(tenant_id, queue);
      else if (queue.timer === null)
        queue.timer = setTimeout(() => this.#flush(tenant_id, queue), this.#wait_ms);
    });
  }

  #queue(tenant_id: string): TenantQueue {
    let queue = this.#queues.get(tenant_id);
    if (queue === undefined) {
      queue = { waiting: [], timer: null, inflight: 0 };
      this.#queues.set(tenant_id, queue);
    }
    return queue;
  }

  #flush(tenant_id: string, queue: TenantQueue): void {
    if (queue.timer !== null) {
      clearTimeout(queue.timer);
      queue.timer = null;
    }
    if (queue.inflight >= this.#inflight_max || queue.waiting.length === 0) return;
    const group = queue.waiting.splice(0, this.#batch_max);
    // Observed by /metrics (src/http/metrics.ts); free when nobody listens.
    if (group_commit_channel.hasSubscribers) group_commit_channel.publish({ size: group.length });
    queue.inflight++;
    void this.#commit(tenant_id, group).finally(() => {
      queue.inflight--;
      if (queue.waiting.length >= this.#batch_max || (queue.waiting.length > 0 && queue.timer === null)) {
        this.#flush(tenant_id, queue);
      }
    });
  }

  async #commit(tenant_id: string, group: readonly Waiter[]): Promise<void> {
    try {
      const results = await bookOrders(
        this.#ctx,
        tenant_id,
        group.map((waiter) => waiter.body),
      );
      for (const [index, waiter] of group.entries()) waiter.resolve(results[index]!);
    } catch (error) {
      if (group.length === 1 || isDomainError(error)) {
        for (const waiter of group) waiter.reject(error);
        return;
      }
      for (const waiter of group) {
        await bookOrders(this.#ctx, tenant_id, [waiter.body]).then(
          (results) => waiter.resolve(results[0]!),
          (alone) => waiter.reject(alone),
        );
      }
    }
  }
}
