import type { ServiceContext } from "../service/context.ts";

// The transparency log's checkpoint lag during a scenario. The sequencer and
// `checkpointLagMs` come with the transparency-log issue; until they are on
// this branch the lag is reported as null.
export class LagSampler {
  max_ms: number | null = null;

  constructor(
    readonly ctx: ServiceContext,
    readonly tenant_id: string,
  ) {}

  async sample(): Promise<void> {}
}
