import type { DemoMarketplace } from "../../core/demo/index.ts";
import type { ServiceContext } from "../../service/context.ts";
import type { BenchOptions } from "../args.ts";
import type { BenchClient } from "../client.ts";
import type { OrderFeed } from "../feed.ts";
import type { StepOutcome } from "../step-runner.ts";

// What a scenario gets (a seeded tenant of its own, its order stream, the HTTP
// client when it needs one) and what it gives the runner.
export interface ScenarioEnv {
  ctx: ServiceContext;
  clock: BenchClock;
  tenant_id: string;
  market: DemoMarketplace;
  feed: OrderFeed;
  options: BenchOptions;
  client: BenchClient | null;
  /** Problems found while running (rejected orders, failed requests); any of them fails the bench. */
  problems: string[];
}

export interface Scenario {
  workers: number;
  step(worker: number): Promise<StepOutcome>;
  /** Before the timed run (background roles the scenario measures). */
  start?(): Promise<void>;
  /** With the runner's ~250 ms samples. */
  sample?(): Promise<void>;
  /** After the timed run; returns lines for the report. */
  finish?(): Promise<string[]>;
}

export const problems_max = 20;

export function report(env: ScenarioEnv, problem: string): void {
  if (env.problems.length < problems_max) env.problems.push(problem);
}

/** The wall clock plus an offset the lifecycle scenario moves forward to reach release dates. */
export class BenchClock {
  offset_ms = 0;
  readonly now = (): Date => new Date(Date.now() + this.offset_ms);
  advance(ms: number): void {
    this.offset_ms += ms;
  }
}
