import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `webhook_endpoints` table's queries as the API uses them
// (decisions §29); the sender's disabling write is in service/notifications/webhook-sender.ts.
// Run the reads on a scoped handle (store/scoped.ts) for a caller.

export type EndpointRow = {
  id: string;
  url: string;
  event_types: string[];
  party_id: string | null;
  description: string | null;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  last_sequence: bigint;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

const endpoint_columns = `id::text AS id, url, event_types, party_id, description, status, disabled_reason, last_sequence,
  previous_secret_expires_at, created_at, updated_at`;

export async function countEndpoints(tx: Queryable, tenant_id: string): Promise<number> {
  const [count] = await tx.query<{ n: bigint }>(
    "SELECT count(*)::int8 AS n FROM webhook_endpoints WHERE tenant_id = $1",
    [tenant_id],
  );
  return Number(count?.n ?? 0n);
}

export async function insertEndpoint(
  tx: Queryable,
  tenant_id: string,
  endpoint: {
    id: string;
    url: string;
    event_types: readonly string[];
    party_id: string | null;
    description: string | null;
    secret: string;
    from_seq: bigint;
    created_by: string;
  },
  now: Date,
): Promise<EndpointRow> {
  const [row] = await tx.query<EndpointRow & Record<string, unknown>>(
    `INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, party_id, description, secret, status, from_seq,
                                    created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4::text[], $5, $6, $7, 'enabled', $8, $9, $10, $10) RETURNING ${endpoint_columns}`,
    [
      tenant_id,
      endpoint.id,
      endpoint.url,
      endpoint.event_types,
      endpoint.party_id,
      endpoint.description,
      endpoint.secret,
      endpoint.from_seq,
      endpoint.created_by,
      now,
    ],
  );
  assert(row !== undefined, "an insert returns its row");
  return row;
}

/**
 * One endpoint; `party_id` (a party-scoped caller's own) hides every endpoint
 * that is not that party's, as the row-level policy does on one node: on
 * Citus the filter is the only wall (docs/decisions.md §35).
 */
export async function selectEndpoint(
  tx: Queryable,
  tenant_id: string,
  id: string,
  party_id: string | null,
): Promise<EndpointRow | undefined> {
  const [row] = await tx.query<EndpointRow & Record<string, unknown>>(
    `SELECT ${endpoint_columns} FROM webhook_endpoints
      WHERE tenant_id = $1 AND id = $2::uuid AND ($3::text IS NULL OR party_id = $3)`,
    [tenant_id, id, party_id],
  );
  return row;
}

/** Endpoints by id after `after_id`, `limit` rows; `party_id` narrows to one party's. */
export function selectEndpoints(
  tx: Queryable,
  tenant_id: string,
  filter: { party_id: string | null; after_id: string | null; limit: number },
): Promise<EndpointRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return tx.query<EndpointRow & Record<string, unknown>>(
    `SELECT ${endpoint_columns} FROM webhook_endpoints
      WHERE tenant_id = $1 AND ($2::text IS NULL OR party_id = $2) AND ($3::uuid IS NULL OR id > $3::uuid)
      ORDER BY id LIMIT $4`,
    [tenant_id, filter.party_id, filter.after_id, filter.limit],
  );
}

/** Applies a patch: each field given replaces the stored one; `enabled` also clears the disabled reason. */
export async function updateEndpointRow(
  tx: Queryable,
  tenant_id: string,
  id: string,
  patch: {
    url: string | null;
    event_types: readonly string[] | null;
    description: { value: string | null } | null;
    enable: boolean;
  },
  now: Date,
): Promise<EndpointRow> {
  const [row] = await tx.query<EndpointRow & Record<string, unknown>>(
    `UPDATE webhook_endpoints SET url = coalesce($3, url), event_types = coalesce($4::text[], event_types),
            description = CASE WHEN $5::boolean THEN $6 ELSE description END,
            status = CASE WHEN $7::text = 'enabled' THEN 'enabled' ELSE status END,
            disabled_reason = CASE WHEN $7::text = 'enabled' THEN NULL ELSE disabled_reason END,
            updated_at = $8
      WHERE tenant_id = $1 AND id = $2 RETURNING ${endpoint_columns}`,
    [
      tenant_id,
      id,
      patch.url,
      patch.event_types,
      patch.description !== null,
      patch.description?.value ?? null,
      patch.enable ? "enabled" : null,
      now,
    ],
  );
  assert(row !== undefined, `endpoint ${id} is there to update`);
  return row;
}

/** A new signing secret; the old one keeps signing alongside until `previous_expires_at`. */
export async function rotateEndpointSecret(
  db: Queryable,
  tenant_id: string,
  id: string,
  secret: string,
  previous_expires_at: Date,
  now: Date,
): Promise<EndpointRow> {
  const [row] = await db.query<EndpointRow & Record<string, unknown>>(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = $5
      WHERE tenant_id = $1 AND id = $2 RETURNING ${endpoint_columns}`,
    [tenant_id, id, secret, previous_expires_at, now],
  );
  assert(row !== undefined, `endpoint ${id} is there to rotate`);
  return row;
}

/** An endpoint's secrets, read as the owner (signing, tests). */
export async function selectEndpointSecrets(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<{ secret: string; previous_secret: string | null } | undefined> {
  const [row] = await db.query<{ secret: string; previous_secret: string | null }>(
    "SELECT secret, previous_secret FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id],
  );
  return row;
}

/**
 * The tenant's enabled endpoints with what the fan-out and the sender need, locked for this transaction, by id.
 * FOR NO KEY UPDATE (the fan-out moves `last_sequence`, never the key): it still excludes every other change
 * to the endpoint, and lets a record's insert of delivery rows check its foreign key meanwhile (decisions §39).
 */
export function selectEnabledEndpointsForUpdate(
  tx: Queryable,
  tenant_id: string,
): Promise<
  {
    id: string;
    event_types: string[];
    party_id: string | null;
    from_seq: bigint;
    last_sequence: bigint;
    url: string;
    secret: string;
    previous_secret: string | null;
    previous_secret_expires_at: Date | null;
  }[]
> {
  return tx.query(
    `SELECT id::text AS id, event_types, party_id, from_seq, last_sequence, url, secret, previous_secret,
            previous_secret_expires_at
       FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'enabled' ORDER BY id FOR NO KEY UPDATE`,
    [tenant_id],
  );
}

/** Disables an enabled endpoint; its url and party, or undefined when it was not enabled. */
export async function disableEndpointRow(
  tx: Queryable,
  tenant_id: string,
  endpoint_id: string,
  reason: string,
  now: Date,
): Promise<{ url: string; party_id: string | null } | undefined> {
  const [row] = await tx.query<{ url: string; party_id: string | null }>(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, updated_at = $4
      WHERE tenant_id = $1 AND id = $2 AND status = 'enabled' RETURNING url, party_id`,
    [tenant_id, endpoint_id, reason, now],
  );
  return row;
}

/** Takes the endpoint's next sequence number (for a message made outside the fan-out). */
export async function nextEndpointSequence(
  tx: Queryable,
  tenant_id: string,
  endpoint_id: string,
): Promise<bigint> {
  const [row] = await tx.query<{ sequence: bigint }>(
    `UPDATE webhook_endpoints SET last_sequence = last_sequence + 1 WHERE tenant_id = $1 AND id = $2
     RETURNING last_sequence AS sequence`,
    [tenant_id, endpoint_id],
  );
  assert(row !== undefined, `endpoint ${endpoint_id} exists`);
  return BigInt(row.sequence);
}
