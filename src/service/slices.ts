import { setImmediate as nextTurn } from "node:timers/promises";

// A 500-order batch is a quarter of a second of JavaScript: parsing, hashing,
// splitting, building the records. Run in one go it holds the event loop that
// long, and every other request (a proof, a health check, a single order)
// waits behind it. The loops over a batch's orders run in slices instead: after
// `loop_slice_ms` of work they let the loop take whatever is waiting, then go
// on (issue 21: a proof's p99 under batch load).

/** Longest a loop over a batch holds the event loop before letting other work in. */
export const loop_slice_ms = 4;

/** Tracks one loop's slice; `pause()` yields only when the slice is used up. */
export class LoopSlicer {
  private started_ms = performance.now();

  /** True when the slice is spent; cheap enough to call per item. */
  spent(): boolean {
    return performance.now() - this.started_ms >= loop_slice_ms;
  }

  async pause(): Promise<void> {
    if (!this.spent()) return;
    await nextTurn();
    this.started_ms = performance.now();
  }
}

/** `items.map(work)`, letting other work in between slices. */
export async function mapInSlices<T, R>(
  items: readonly T[],
  work: (item: T, index: number) => R,
  slicer: LoopSlicer = new LoopSlicer(),
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  for (let index = 0; index < items.length; index++) {
    out[index] = work(items[index]!, index);
    if (slicer.spent()) await slicer.pause();
  }
  return out;
}
