import { assert } from "../core/assert.ts";

// Without a TTY (CI, docker logs, a file) a progress bar prints nothing, so a
// long first start looked hung (issue 12). Off a TTY, progress is a plain line
// at every step of `percent_step`: few enough lines for a log, enough to see
// that work goes on.

export const progress_percent_step = 10;

/**
 * Returns a reporter for `(done, total)` updates that yields a line each time
 * progress crosses the next multiple of `percent_step`, and null otherwise.
 */
export function progressLines(
  label: string,
  started_ms: number,
  now_ms: () => number = Date.now,
  percent_step = progress_percent_step,
): (done: number, total: number) => string | null {
  assert(percent_step > 0, "percent_step is positive");
  assert(percent_step <= 100, "percent_step is at most 100");
  let reported_percent = -1;
  return (done, total) => {
    assert(total > 0, "progress has a positive total");
    assert(done >= 0, "progress done is not negative");
    assert(done <= total, "progress done is at most the total");
    const percent = Math.floor((done * 100) / total);
    const reached = percent - (percent % percent_step);
    if (reached <= reported_percent) return null;
    reported_percent = reached;
    const seconds = ((now_ms() - started_ms) / 1000).toFixed(1);
    return `${label}: ${reached}% (${done}/${total} steps, ${seconds} s)`;
  };
}
