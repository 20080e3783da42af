import type { Database, Queryable, Row } from "./database.ts";

// A Database that reports every statement it sends, and each transaction's
// BEGIN and COMMIT, to a sink, with the time the client waited for it: the
// simulation's `--statements` count (src/sim/statement-counter.ts). It wraps
// an adapter and changes nothing the statements do.

export interface StatementSink {
  record(text: string, wait_ms: number): void;
}

function countedQueryable(queryable: Queryable, sink: StatementSink): Queryable {
  return {
    sharded: queryable.sharded,
    query: async <T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> => {
      const started_ms = performance.now();
      try {
        return await queryable.query<T>(text, params);
      } finally {
        sink.record(text, performance.now() - started_ms);
      }
    },
  };
}

/** `db` with every statement, and each transaction's BEGIN and COMMIT, counted in `sink`. */
export function countedDatabase(db: Database, sink: StatementSink): Database {
  return {
    ...countedQueryable(db, sink),
    backend: db.backend,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
      sink.record("BEGIN", 0);
      try {
        return await db.transaction((tx) => fn(countedQueryable(tx, sink)));
      } finally {
        sink.record("COMMIT", 0);
      }
    },
    exec: (script) => db.exec(script),
    close: () => db.close(),
    ...(db.dumpDataDir === undefined ? {} : { dumpDataDir: () => db.dumpDataDir!() }),
    ...(db.poolUse === undefined ? {} : { poolUse: () => db.poolUse!() }),
  };
}
