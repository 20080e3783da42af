import type { Database } from "../store/database.ts";
import type { LogKeyStore } from "./tlog/signing-keys.ts";

/** What every use case needs: the database and a clock that tests can move. */
export interface ServiceContext {
  db: Database;
  now: () => Date;
  /** The tenants' log keys, for signing statements; from the environment when absent. */
  log_keys?: LogKeyStore;
}

export function systemClock(): Date {
  return new Date();
}
