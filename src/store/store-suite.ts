import { describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { loadMigrations, migrate } from "./migrate.ts";

/**
 * The conformance suite every database adapter must pass. Each adapter's test
 * file calls it with a way to open a fresh, migrated database.
 */
export function runStoreSuite(name: string, options: { open: () => Promise<Database> }): void {
  describe(`store conformance: ${name}`, () => {
    it("returns int8 as bigint, exactly, above 2^53, in and out, scalars and arrays", async () => {
      const db = await options.open();
      try {
        const big = 2n ** 62n + 7n;
        const [row] = await db.query<{ a: bigint; b: bigint; s: string }>(
          "SELECT $1::int8 AS a, $1::int8 + 1 AS b, sum(x)::text AS s FROM unnest($2::int8[]) AS u(x)",
          [big, [big, 2n ** 53n + 1n]],
        );
        expect(row?.a).toBe(big);
        expect(row?.b).toBe(big + 1n);
        expect(row?.s).toBe((big + 2n ** 53n + 1n).toString());
        const arrays = await db.query<{ v: bigint }>("SELECT v FROM unnest($1::int8[]) AS u(v) ORDER BY v", [
          [3n, 2n ** 60n],
        ]);
        expect(arrays.map((r) => r.v)).toEqual([3n, 2n ** 60n]);
      } finally {
        await db.close();
      }
    });

    it("passes array parameters of every element type exactly, quotes, backslashes and NULLs included", async () => {
      const db = await options.open();
      try {
        const texts = [
          "plain",
          "",
          "NULL",
          "null",
          'say "hi"',
          "back\\slash",
          "a,b",
          "{x}",
          " spaced ",
          "中文",
          null,
        ];
        const rows = await db.query<{ t: string | null; n: number }>(
          "SELECT t, n::int4 AS n FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
          [texts],
        );
        expect(rows.map((row) => row.t)).toEqual(texts);
        const when = new Date("2026-01-02T03:04:05.678Z");
        const [typed] = await db.query<{ times: boolean; flags: string; ids: string }>(
          `SELECT array_to_string($1::timestamptz[], '|') IS NOT NULL AND ($1::timestamptz[])[1] = $4::timestamptz AS times,
                  ($2::text[]::bool[])::text AS flags, ($3::uuid[])::text AS ids`,
          [[when], [true, false, null], ["0190a5a0-0000-7000-8000-000000000001"], when],
        );
        expect(typed).toEqual({
          times: true,
          flags: "{t,f,NULL}",
          ids: "{0190a5a0-0000-7000-8000-000000000001}",
        });
      } finally {
        await db.close();
      }
    });

    it("returns numeric as a string, timestamptz as Date and bytea as bytes", async () => {
      const db = await options.open();
      try {
        const when = new Date("2026-01-02T03:04:05.678Z");
        const [row] = await db.query<{ n: string; t: Date; b: Uint8Array }>(
          "SELECT 12345678901234567890123::numeric AS n, $1::timestamptz AS t, '\\x00ff'::bytea AS b",
          [when],
        );
        expect(row?.n).toBe("12345678901234567890123");
        expect(row?.t).toBeInstanceOf(Date);
        expect(row?.t.getTime()).toBe(when.getTime());
        expect([...(row?.b ?? [])]).toEqual([0, 255]);
      } finally {
        await db.close();
      }
    });

    it("commits a transaction that resolves and rolls back one that throws", async () => {
      const db = await options.open();
      try {
        const tag = `${Date.now()}-${Math.random()}`;
        await db.exec("CREATE TABLE IF NOT EXISTS conformance_scratch (tag text NOT NULL, v int8 NOT NULL)");
        await db.transaction(async (tx) => {
          await tx.query("INSERT INTO conformance_scratch VALUES ($1, 1)", [tag]);
        });
        await expect(
          db.transaction(async (tx) => {
            await tx.query("INSERT INTO conformance_scratch VALUES ($1, 2)", [tag]);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        const rows = await db.query<{ v: bigint }>("SELECT v FROM conformance_scratch WHERE tag = $1", [tag]);
        expect(rows.map((row) => row.v)).toEqual([1n]);
      } finally {
        await db.close();
      }
    });

    it("records migrations and applies nothing the second time", async () => {
      const db = await options.open();
      try {
        const versions = await db.query<{ version: number }>(
          "SELECT version FROM schema_migrations ORDER BY version",
        );
        expect(versions.map((row) => Number(row.version))).toEqual(loadMigrations().map((m) => m.version));
        expect(await migrate(db)).toEqual([]);
      } finally {
        await db.close();
      }
    });

    it("refuses UPDATE, DELETE and TRUNCATE on the journal, in raw SQL", async () => {
      const db = await options.open();
      try {
        const tenant = `conformance-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
        const id = "01900000-0000-7000-8000-000000000001";
        await db.query(
          `INSERT INTO journal_transactions (tenant_id, id, kind, idempotency_key, content_hash, effective_at, recorded_at)
           VALUES ($1, $2, 'test', 'k', 'h', now(), now())`,
          [tenant, id],
        );
        await db.query(
          `INSERT INTO postings (tenant_id, transaction_id, seq, account_id, amount_minor, currency, effective_at)
           VALUES ($1, $2, 0, $2, 5, 'CNY', now())`,
          [tenant, id],
        );
        for (const table of ["journal_transactions", "postings"]) {
          await expect(
            db.query(`UPDATE ${table} SET tenant_id = tenant_id WHERE tenant_id = $1`, [tenant]),
          ).rejects.toThrow(/append-only/);
          await expect(db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant])).rejects.toThrow(
            /append-only/,
          );
          await expect(db.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
        }
        const [left] = await db.query<{ n: bigint }>(
          "SELECT count(*)::int8 AS n FROM postings WHERE tenant_id = $1",
          [tenant],
        );
        expect(left?.n).toBe(1n);
      } finally {
        await db.close();
      }
    });
  });
}
