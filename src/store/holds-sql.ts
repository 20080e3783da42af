import type { Queryable } from "./database.ts";

// The one home of the `holds` table's queries (decisions §29): two-phase
// transfers' reservations (service/ledger/holds.ts keeps the rules).

export interface HoldRow {
  id: string;
  idempotency_key: string;
  content_hash: string;
  source_account_id: string;
  destination_account_id: string;
  amount_minor: bigint;
  currency: string;
  status: "pending" | "posted" | "voided" | "expired";
  posted_minor: bigint;
  expires_at: Date | null;
  created_at: Date;
  resolved_at: Date | null;
  transaction_id: string | null;
}

function selectHolds(tx: Queryable, tenant_id: string, where: string, params: unknown[]): Promise<HoldRow[]> {
  return tx.query<HoldRow & Record<string, unknown>>(
    `SELECT id::text, idempotency_key, content_hash, source_account_id::text, destination_account_id::text,
            amount_minor, currency::text, status, posted_minor, expires_at, created_at, resolved_at,
            transaction_id::text
       FROM holds WHERE tenant_id = $1 AND ${where}`,
    [tenant_id, ...params],
  );
}

export async function selectHoldByKey(
  tx: Queryable,
  tenant_id: string,
  idempotency_key: string,
): Promise<HoldRow | undefined> {
  const [row] = await selectHolds(tx, tenant_id, "idempotency_key = $2", [idempotency_key]);
  return row;
}

export async function selectHoldById(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<HoldRow | undefined> {
  const [row] = await selectHolds(tx, tenant_id, "id = $2", [id]);
  return row;
}

/** The hold, locked until the transaction ends. */
export async function lockHold(tx: Queryable, tenant_id: string, id: string): Promise<HoldRow | undefined> {
  const [row] = await selectHolds(tx, tenant_id, "id = $2 FOR UPDATE", [id]);
  return row;
}

/** Pending holds whose time is up at `now`, at most `limit`, locked (those another transaction holds are skipped). */
export function lockDueHolds(tx: Queryable, tenant_id: string, now: Date, limit: number): Promise<HoldRow[]> {
  return selectHolds(
    tx,
    tenant_id,
    "status = 'pending' AND expires_at <= $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
    [now, limit],
  );
}

/** A hold as it is created: pending, nothing posted, not resolved, with its memo. */
export type NewHold = Pick<
  HoldRow,
  | "id"
  | "idempotency_key"
  | "content_hash"
  | "source_account_id"
  | "destination_account_id"
  | "amount_minor"
  | "currency"
  | "expires_at"
> & { memo: string | null };

/** Inserts a pending hold; false when its idempotency key was taken first. */
export async function insertPendingHold(
  tx: Queryable,
  tenant_id: string,
  hold: NewHold,
  now: Date,
): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO holds (tenant_id, id, idempotency_key, content_hash, source_account_id, destination_account_id,
                        amount_minor, currency, status, expires_at, created_at, memo)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11)
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
    [
      tenant_id,
      hold.id,
      hold.idempotency_key,
      hold.content_hash,
      hold.source_account_id,
      hold.destination_account_id,
      hold.amount_minor,
      hold.currency,
      hold.expires_at,
      now,
      hold.memo,
    ],
  );
  return inserted.length > 0;
}

export async function updateHoldPosted(
  tx: Queryable,
  tenant_id: string,
  id: string,
  posted: { posted_minor: bigint; resolved_at: Date; transaction_id: string },
): Promise<void> {
  await tx.query(
    `UPDATE holds SET status = 'posted', posted_minor = $3, resolved_at = $4, transaction_id = $5
      WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, id, posted.posted_minor, posted.resolved_at, posted.transaction_id],
  );
}

export async function updateHoldResolved(
  tx: Queryable,
  tenant_id: string,
  id: string,
  status: "voided" | "expired",
  resolved_at: Date,
): Promise<void> {
  await tx.query("UPDATE holds SET status = $3, resolved_at = $4 WHERE tenant_id = $1 AND id = $2", [
    tenant_id,
    id,
    status,
    resolved_at,
  ]);
}
