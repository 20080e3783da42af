import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { type Database, normaliseParams, type Queryable, type Row } from "./database.ts";

// PGlite returns int8 as a number when it fits in 2^53 and as a bigint when it
// does not; one type for one column is the only safe contract.
const int8_oid = 20;
const int8_array_oid = 1016;
const int8_parsers = {
  [int8_oid]: (text: string) => BigInt(text),
  [int8_array_oid]: (text: string) => parseInt8Array(text),
};

function parseInt8Array(text: string): (bigint | null)[] {
  const body = text.slice(1, -1);
  if (body === "") return [];
  return body.split(",").map((item) => (item === "NULL" ? null : BigInt(item)));
}

/**
 * PGlite is one connection. A plain query issued while another caller's
 * transaction is open would run inside that transaction, so every entry point
 * takes the same queue and callers see transaction isolation as on PostgreSQL.
 */
export async function openPglite(data_dir?: string): Promise<Database> {
  if (data_dir !== undefined) mkdirSync(data_dir, { recursive: true });
  const pg = await PGlite.create({
    ...(data_dir === undefined ? {} : { dataDir: data_dir }),
    parsers: int8_parsers,
  });
  let tail: Promise<unknown> = Promise.resolve();

  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  }

  const direct: Queryable = {
    async query<T extends Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await pg.query<T>(text, normaliseParams(params));
      return result.rows;
    },
  };

  return {
    backend: "pglite",
    query: (text, params) => exclusive(() => direct.query(text, params)),
    transaction: (fn) =>
      exclusive(() =>
        pg.transaction(async (tx) =>
          fn({
            async query<T extends Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
              const result = await tx.query<T>(text, normaliseParams(params));
              return result.rows;
            },
          }),
        ),
      ),
    exec: (script) => exclusive(async () => void (await pg.exec(script))),
    close: () => exclusive(() => pg.close()),
    dumpDataDir: () => exclusive(() => pg.dumpDataDir("gzip")),
  };
}
