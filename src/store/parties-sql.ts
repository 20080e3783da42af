import type { PartyKind } from "../core/ledger/types.ts";
import type { Queryable } from "./database.ts";

// The one home of the `parties` table's read queries. Run them on a scoped
// handle (store/scoped.ts) for a caller's reads: row-level security then
// confines them to the caller's party even if a filter is forgotten.

export interface PartyRow {
  id: string;
  kind: PartyKind;
  name: string;
  parent_id: string | null;
  /** active; suspended (never paid out); inactive (named by no new order). */
  status: "active" | "suspended" | "inactive";
  settlement: Record<string, unknown>;
  created_at: Date;
}

const party_columns =
  "id, kind, name, parent_id, CASE WHEN deactivated_at IS NULL THEN status ELSE 'inactive' END AS status, settlement, created_at";

/** Each named party's kind and whether it is inactive (named by no new order). */
export function selectPartyKinds(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<{ id: string; kind: PartyKind; inactive: boolean }[]> {
  return tx.query(
    "SELECT id, kind, deactivated_at IS NOT NULL AS inactive FROM parties WHERE tenant_id = $1 AND id = ANY($2::text[])",
    [tenant_id, ids],
  );
}

export async function selectPartyRow(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<PartyRow | undefined> {
  const rows = await tx.query<PartyRow & Record<string, unknown>>(
    `SELECT ${party_columns} FROM parties WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, id],
  );
  return rows[0];
}

/** Parties by id after `after_id`, `limit` rows; `party_id` narrows to one party. */
export async function selectPartyRows(
  tx: Queryable,
  tenant_id: string,
  filter: { party_id: string | null; kind: string | null; after_id: string | null; limit: number },
): Promise<PartyRow[]> {
  return tx.query<PartyRow & Record<string, unknown>>(
    `SELECT ${party_columns} FROM parties
      WHERE tenant_id = $1 AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR kind = $3)
        AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
    [tenant_id, filter.party_id, filter.kind, filter.after_id, filter.limit],
  );
}

export interface PartyVersionRow {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
  status: "active" | "suspended" | "inactive";
  version: number;
  settlement: unknown;
  created_at: Date;
}

/** The party's row for a change, locked until the transaction ends. */
export async function lockPartyVersionRow(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<PartyVersionRow | undefined> {
  const rows = await tx.query<PartyVersionRow & Record<string, unknown>>(
    `SELECT ${party_columns}, version FROM parties WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenant_id, id],
  );
  return rows[0];
}

/**
 * Writes a party's new name, status, profile and version. `inactive` is kept
 * as `deactivated_at` (migration 021) beside the `status` column (active or
 * suspended, migration 040): undefined keeps the instant, null clears it.
 */
export async function updatePartyVersion(
  tx: Queryable,
  tenant_id: string,
  id: string,
  next: {
    name: string;
    status: PartyVersionRow["status"];
    settlement: unknown;
    version: number;
    deactivated_at: Date | null | undefined;
  },
): Promise<void> {
  await tx.query(
    `UPDATE parties SET name = $3, status = CASE WHEN $4::text = 'inactive' THEN status ELSE $4::text END,
            settlement = $5::text::jsonb, version = $6,
            deactivated_at = CASE WHEN $7::boolean THEN deactivated_at ELSE $8::timestamptz END
      WHERE tenant_id = $1 AND id = $2`,
    [
      tenant_id,
      id,
      next.name,
      next.status,
      JSON.stringify(next.settlement),
      next.version,
      next.deactivated_at === undefined,
      next.deactivated_at ?? null,
    ],
  );
}

export async function insertPartyVersion(
  tx: Queryable,
  tenant_id: string,
  version: {
    party_id: string;
    version: number;
    name: string;
    status: string;
    settlement: unknown;
    changed_by: string;
    created_at: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO party_versions (tenant_id, party_id, version, name, status, settlement, changed_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) ON CONFLICT DO NOTHING`,
    [
      tenant_id,
      version.party_id,
      version.version,
      version.name,
      version.status,
      JSON.stringify(version.settlement ?? {}),
      version.changed_by,
      version.created_at,
    ],
  );
}

/** Which of these ids are parties of the tenant. */
export async function selectKnownPartyIds(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    "SELECT id FROM parties WHERE tenant_id = $1 AND id = ANY($2::text[])",
    [tenant_id, ids],
  );
  return rows.map((row) => row.id);
}

export async function partyExists(tx: Queryable, tenant_id: string, id: string): Promise<boolean> {
  const rows = await tx.query("SELECT 1 FROM parties WHERE tenant_id = $1 AND id = $2", [tenant_id, id]);
  return rows.length > 0;
}

/** Creates the party unless one with this id exists (it is then left as it is). */
export async function insertParty(
  tx: Queryable,
  tenant_id: string,
  party: { id: string; kind: string; name: string; parent_id: string | null; settlement: unknown },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO parties (tenant_id, id, kind, name, parent_id, settlement, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7) ON CONFLICT (tenant_id, id) DO NOTHING`,
    [tenant_id, party.id, party.kind, party.name, party.parent_id, JSON.stringify(party.settlement), now],
  );
}
