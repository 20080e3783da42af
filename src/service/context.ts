import type { Database } from "../store/database.ts";

/** What every use case needs: the database and a clock that tests can move. */
export interface ServiceContext {
  db: Database;
  now: () => Date;
}

export function systemClock(): Date {
  return new Date();
}
