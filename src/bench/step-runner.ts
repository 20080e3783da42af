import cliProgress from "cli-progress";
import { assert } from "../core/assert.ts";

// Runs a scenario's step in `workers` concurrent loops: a short warm-up that
// is not counted, then `seconds` of measurement. Each step reports the orders
// and postings it booked; its duration is one latency sample.

export interface StepOutcome {
  orders: number;
  postings: number;
}

export interface TimedRun {
  label: string;
  seconds: number;
  warmup_seconds: number;
  workers: number;
  step: (worker: number) => Promise<StepOutcome>;
  /** Called every ~250 ms while measuring (e.g. to sample the checkpoint lag). */
  sample?: () => Promise<void>;
  progress: boolean;
}

export interface TimedResult {
  orders: number;
  postings: number;
  seconds: number;
  latencies_ms: number[];
  /** The first error a step threw; every worker stops at it. */
  error: unknown;
}

export const workers_max = 256;
export const latency_samples_max = 2_000_000;
const sample_interval_ms = 250;

export async function runTimed(run: TimedRun): Promise<TimedResult> {
  assert(run.workers >= 1 && run.workers <= workers_max, "workers in 1..workers_max");
  assert(run.seconds > 0, "a run lasts some time");
  const started = performance.now();
  const measure_from = started + run.warmup_seconds * 1000;
  const measure_until = measure_from + run.seconds * 1000;
  const result: TimedResult = { orders: 0, postings: 0, seconds: 0, latencies_ms: [], error: undefined };
  let failed = false;
  const bar = run.progress ? newBar(run.label, run.seconds) : null;
  let measured_end = measure_from;
  const ticker = setInterval(() => {
    const now = performance.now();
    const elapsed = Math.max(0, (now - measure_from) / 1000);
    bar?.update(Math.min(run.seconds, elapsed), {
      phase: now < measure_from ? "warm-up" : "measure",
      orders: result.orders,
      rate: elapsed > 0 ? Math.round(result.orders / elapsed) : 0,
    });
  }, 200);
  let sampling = false;
  const sampler = setInterval(() => {
    if (run.sample === undefined || sampling || performance.now() < measure_from) return;
    sampling = true;
    run
      .sample()
      .catch((error: unknown) => {
        if (!failed) result.error = error;
        failed = true;
      })
      .finally(() => {
        sampling = false;
      });
  }, sample_interval_ms);
  async function loop(worker: number): Promise<void> {
    for (;;) {
      const begin = performance.now();
      if (begin >= measure_until || failed) return;
      let outcome: StepOutcome;
      try {
        outcome = await run.step(worker);
      } catch (error) {
        if (!failed) result.error = error;
        failed = true;
        return;
      }
      const end = performance.now();
      // PGlite can settle a whole step in microtasks; one turn of the event
      // loop per step lets the progress bar and the lag sampler run.
      await new Promise((resolve) => setImmediate(resolve));
      if (begin < measure_from) continue;
      result.orders += outcome.orders;
      result.postings += outcome.postings;
      if (result.latencies_ms.length < latency_samples_max) result.latencies_ms.push(end - begin);
      if (end > measured_end) measured_end = end;
    }
  }
  try {
    await Promise.all(Array.from({ length: run.workers }, (_, worker) => loop(worker)));
  } finally {
    clearInterval(ticker);
    clearInterval(sampler);
    const elapsed = Math.max(1e-3, (performance.now() - measure_from) / 1000);
    bar?.update(run.seconds, {
      phase: "done",
      orders: result.orders,
      rate: Math.round(result.orders / elapsed),
    });
    bar?.stop();
  }
  result.seconds = Math.max(run.seconds, (measured_end - measure_from) / 1000);
  return result;
}

function newBar(label: string, seconds: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label.padEnd(10)} [{bar}] {value}/{total} s | {phase} | {orders} orders | {rate} orders/s`,
      hideCursor: true,
      clearOnComplete: false,
      formatValue: (value, _options, type) => (type === "value" ? value.toFixed(1) : String(value)),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(seconds, 0, { phase: "warm-up", orders: 0, rate: 0 });
  return bar;
}
