import type { Queryable } from "./database.ts";

// The one home of the witnesses' tables' queries (decisions §29): the largest
// checkpoint each witness has cosigned (`log_witness_state`) and the
// cosignature lines it returned (`log_cosignatures`).

/** The size of the largest checkpoint the witness has cosigned; undefined before its first. */
export async function selectWitnessSize(
  db: Queryable,
  tenant_id: string,
  witness: string,
): Promise<bigint | undefined> {
  const [state] = await db.query<{ size: bigint }>(
    "SELECT size FROM log_witness_state WHERE tenant_id = $1 AND witness = $2",
    [tenant_id, witness],
  );
  return state ? BigInt(state.size) : undefined;
}

/** Keeps the witness's cosignature line of the checkpoint of `size` and moves its state forward (never back). */
export async function recordCosignature(
  tx: Queryable,
  tenant_id: string,
  cosignature: { witness: string; size: bigint; line: string },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO log_cosignatures (tenant_id, size, witness, line, created_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [tenant_id, cosignature.size, cosignature.witness, cosignature.line, now],
  );
  await tx.query(
    `INSERT INTO log_witness_state (tenant_id, witness, size, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, witness) DO UPDATE SET size = GREATEST(log_witness_state.size, EXCLUDED.size),
       updated_at = EXCLUDED.updated_at`,
    [tenant_id, cosignature.witness, cosignature.size, now],
  );
}
