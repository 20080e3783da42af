import type { Queryable } from "./database.ts";

// The one home of the `http_idempotency` table: the answer a keyed write gave,
// replayed when the same key comes back with the same request.

export interface StoredResponse {
  request_sha256: string;
  status_code: number;
  response_body: string;
}

export async function selectStoredResponse(
  db: Queryable,
  tenant_id: string,
  idempotency_key: string,
): Promise<StoredResponse | undefined> {
  const [row] = await db.query<StoredResponse & Record<string, unknown>>(
    "SELECT request_sha256, status_code, response_body FROM http_idempotency WHERE tenant_id = $1 AND idempotency_key = $2",
    [tenant_id, idempotency_key],
  );
  return row;
}

/** Keeps the first answer for a key: a concurrent second one is dropped (ON CONFLICT DO NOTHING). */
export async function insertStoredResponse(
  db: Queryable,
  row: StoredResponse & { tenant_id: string; idempotency_key: string; created_at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO http_idempotency (tenant_id, idempotency_key, request_sha256, status_code, response_body, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      row.tenant_id,
      row.idempotency_key,
      row.request_sha256,
      row.status_code,
      row.response_body,
      row.created_at,
    ],
  );
}
