import type { DemoOrder } from "../core/demo/index.ts";
import type { ServiceContext } from "../service/context.ts";
import type { LogKeyStore } from "../service/tlog/signing-keys.ts";
import type { TreeEdge } from "../tlog/index.ts";
import type { LedgerTally } from "./ledger-tally.ts";
import type { SimModel } from "./model.ts";
import type { StatementCounter } from "./statement-counter.ts";

// What one simulation run carries from step to step: the real services'
// context on a virtual clock, its tenant, the model of what the services
// acknowledged, and the log the run verifies as it grows.

export interface World {
  ctx: ServiceContext;
  clock: { advance: (ms: number) => void };
  tenant_id: string;
  model: SimModel;
  orders: Iterator<DemoOrder>;
  log: LogState;
  /** Running sums of the postings read so far, for the incremental balance check. */
  ledger: LedgerTally;
  /** Counts every statement by the part of the run that sent it (`--statements`); absent, nothing is counted. */
  statements: StatementCounter | undefined;
}

export interface LogState {
  keys: LogKeyStore;
  cache: Map<string, TreeEdge>;
  /** The latest checkpoint the simulation verified: each new one must be consistent with it. */
  last: { size: bigint; root: Uint8Array } | null;
  checkpoints_verified: number;
}
