import { assert } from "../core/assert.ts";
import type { CaseState, PendingDecision } from "../core/audit/four-eyes.ts";
import { isUuid, newId } from "../core/ids.ts";
import { toJsonText } from "../core/json.ts";
import { type AuditActionRecord, auditActionRecord } from "../core/log/records.ts";
import { arrayLiteral, type Queryable } from "./database.ts";

// The audit tables' SQL (migration 030): cases, hits, actions. An action row
// is written with its transparency-log record in the same transaction; the
// record is rebuilt from the row, so the row is the single source.

export type CaseKind = "rule" | "manual" | "dispute";

export interface CaseRow {
  id: string;
  kind: CaseKind;
  state: CaseState;
  order_id: string | null;
  party_id: string | null;
  rule_ids: string[];
  amount_minor: bigint;
  currency: string;
  config_hash: string | null;
  opened_at: Date;
  opened_by: string;
  involved: string[];
  claimed_by: string | null;
  claimed_at: Date | null;
  pending: PendingDecision | null;
  decided_at: Date | null;
  updated_at: Date;
}

export const case_columns = `id::text AS id, kind, state, order_id, party_id, rule_ids, amount_minor,
  currency::text AS currency, config_hash, opened_at, opened_by, involved, claimed_by, claimed_at, pending,
  decided_at, updated_at`;

export function caseOfRow(row: Record<string, unknown>): CaseRow {
  const pending = row.pending;
  return {
    ...(row as unknown as CaseRow),
    amount_minor: BigInt(row.amount_minor as bigint),
    pending: (typeof pending === "string" ? JSON.parse(pending) : pending) as PendingDecision | null,
  };
}

/** One case of the tenant, optionally locked for a decision; undefined when none. */
export async function selectCase(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  lock = false,
): Promise<CaseRow | undefined> {
  if (!isUuid(case_id)) return undefined;
  const [row] = await tx.query(
    `SELECT ${case_columns} FROM audit_cases WHERE tenant_id = $1 AND id = $2::uuid${lock ? " FOR UPDATE" : ""}`,
    [tenant_id, case_id],
  );
  return row === undefined ? undefined : caseOfRow(row);
}

export interface ActionInput {
  case_id: string | null;
  config_id?: string | null;
  action: AuditActionRecord["action"];
  actor: string;
  person: string | null;
  reason: string;
  config_hash?: string | null;
  inputs_sha256?: string | null;
  detail?: unknown;
  /** Parties whose proof bundles may include this record (a dispute's party). */
  party_ids?: readonly string[];
}

export interface WrittenAction {
  id: string;
  record: AuditActionRecord;
  party_ids: readonly string[];
}

/**
 * Inserts trail rows and returns each with the log record it is (the caller
 * queues the records in the same transaction). Details are normalised through
 * JSON first, so that the record hashed now is the one rebuilt from jsonb later.
 */
export async function insertActions(
  tx: Queryable,
  tenant_id: string,
  actions: readonly ActionInput[],
  now: Date,
): Promise<WrittenAction[]> {
  if (actions.length === 0) return [];
  const written = actions.map((input) => {
    const id = newId();
    const detail = JSON.parse(toJsonText(input.detail ?? {})) as unknown;
    const record = auditActionRecord({
      id,
      case_id: input.case_id,
      config_id: input.config_id ?? null,
      action: input.action,
      actor: input.actor,
      person: input.person,
      reason: input.reason,
      config_hash: input.config_hash ?? null,
      inputs_sha256: input.inputs_sha256 ?? null,
      detail,
      created_at: now,
    });
    return { id, record, party_ids: [...(input.party_ids ?? [])].sort() };
  });
  await tx.query(
    `INSERT INTO audit_actions (tenant_id, id, case_id, config_id, action, actor, person, reason, config_hash,
                                inputs_sha256, detail, party_ids, created_at)
     SELECT $1, a.id, a.case_id, a.config_id, a.action, a.actor, a.person, a.reason, a.config_hash, a.inputs_sha256,
            a.detail::jsonb, a.parties::text[], $12::timestamptz
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::text[], $13::text[])
         AS a(id, case_id, config_id, action, actor, person, reason, config_hash, inputs_sha256, detail, parties)`,
    [
      tenant_id,
      written.map((w) => w.id),
      written.map((w) => w.record.case_id),
      written.map((w) => w.record.config_id),
      written.map((w) => w.record.action),
      written.map((w) => w.record.actor),
      written.map((w) => w.record.person),
      written.map((w) => w.record.reason),
      written.map((w) => w.record.config_hash),
      written.map((w) => w.record.inputs_sha256),
      written.map((w) => JSON.stringify(w.record.detail)),
      now,
      written.map((w) => arrayLiteral(w.party_ids)),
    ],
  );
  return written;
}

interface ActionRow {
  id: string;
  case_id: string | null;
  config_id: string | null;
  action: string;
  actor: string;
  person: string | null;
  reason: string;
  config_hash: string | null;
  inputs_sha256: string | null;
  detail: unknown;
  party_ids: string[];
  created_at: Date;
  [key: string]: unknown;
}

const action_columns = `id::text AS id, case_id::text AS case_id, config_id::text AS config_id, action, actor, person,
  reason, config_hash, inputs_sha256, detail, party_ids, created_at`;

function recordOfRow(row: ActionRow): AuditActionRecord {
  return auditActionRecord({
    ...row,
    detail: typeof row.detail === "string" ? JSON.parse(row.detail) : row.detail,
  });
}

/** Trail records rebuilt from their rows (for proofs and the tamper check). */
export async function selectActionRecords(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, AuditActionRecord>> {
  const rows = await tx.query<ActionRow>(
    `SELECT ${action_columns} FROM audit_actions WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenant_id, ids],
  );
  return new Map(rows.map((row) => [row.id, recordOfRow(row)]));
}

/** A case's trail, oldest first, as records with their party lists. */
export async function selectCaseActions(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  limit: number,
  after: readonly [Date, string] | null = null,
): Promise<{ record: AuditActionRecord; party_ids: string[]; created_at: Date; id: string }[]> {
  assert(limit >= 1, "a trail page holds at least one action");
  const rows = await tx.query<ActionRow>(
    `SELECT ${action_columns} FROM audit_actions WHERE tenant_id = $1 AND case_id = $2::uuid
        AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
      ORDER BY created_at, id LIMIT $3`,
    [tenant_id, case_id, limit, after?.[0] ?? null, after?.[1] ?? null],
  );
  return rows.map((row) => ({
    record: recordOfRow(row),
    party_ids: row.party_ids,
    created_at: row.created_at,
    id: row.id,
  }));
}

/** The filters of the case queue, each null when not asked for. */
export interface CaseQuery {
  states: readonly string[] | null;
  rule_id: string | null;
  party_id: string | null;
  order_id: string | null;
  amount_min_minor: bigint | null;
  amount_max_minor: bigint | null;
  opened_before: Date | null;
  opened_after: Date | null;
  kind: string | null;
  before: { opened_at: Date; id: string } | null;
  limit: number;
}

/** Cases newest first (opened_at, id), filtered, before the cursor's key; `limit` rows. */
export async function selectCases(tx: Queryable, tenant_id: string, query: CaseQuery): Promise<CaseRow[]> {
  assert(query.limit >= 1, "a page reads at least one row");
  const rows = await tx.query(
    `SELECT ${case_columns} FROM audit_cases
      WHERE tenant_id = $1
        AND ($2::text[] IS NULL OR state = ANY($2::text[]))
        AND ($3::text IS NULL OR $3 = ANY(rule_ids))
        AND ($4::text IS NULL OR party_id = $4)
        AND ($5::text IS NULL OR order_id = $5)
        AND ($6::int8 IS NULL OR amount_minor >= $6)
        AND ($7::int8 IS NULL OR amount_minor <= $7)
        AND ($8::timestamptz IS NULL OR opened_at < $8)
        AND ($9::timestamptz IS NULL OR opened_at >= $9)
        AND ($10::text IS NULL OR kind = $10)
        AND ($11::timestamptz IS NULL OR (opened_at, id) < ($11::timestamptz, $12::uuid))
      ORDER BY opened_at DESC, id DESC LIMIT $13`,
    [
      tenant_id,
      query.states,
      query.rule_id,
      query.party_id,
      query.order_id,
      query.amount_min_minor,
      query.amount_max_minor,
      query.opened_before,
      query.opened_after,
      query.kind,
      query.before?.opened_at ?? null,
      query.before?.id ?? null,
      query.limit,
    ],
  );
  return rows.map(caseOfRow);
}

export interface HitRow {
  id: string;
  rule_id: string;
  reason: string;
  inputs: unknown;
  inputs_sha256: string;
  config_hash: string | null;
  created_at: Date;
}

/** A case's hits, oldest first; `limit` rows. */
export function selectCaseHits(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  limit: number,
): Promise<HitRow[]> {
  assert(limit >= 1, "read at least one hit");
  return tx.query<HitRow & Record<string, unknown>>(
    `SELECT id::text AS id, rule_id, reason, inputs, inputs_sha256, config_hash, created_at FROM audit_hits
      WHERE tenant_id = $1 AND case_id = $2::uuid ORDER BY created_at, id LIMIT $3`,
    [tenant_id, case_id, limit],
  );
}

/** Records who claimed a case and its new state. */
export async function updateCaseClaim(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  claim: { claimed_by: string; state: CaseState },
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE audit_cases SET claimed_by = $3, claimed_at = $4, state = $5, updated_at = $4
      WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, case_id, claim.claimed_by, now, claim.state],
  );
}

/** Opens a dispute's case on an order, involving the disputing person. */
export async function insertDisputeCase(
  tx: Queryable,
  tenant_id: string,
  opened: {
    id: string;
    order_id: string;
    party_id: string;
    amount_minor: bigint;
    currency: string;
    opened_by: string;
    involved: string;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO audit_cases (tenant_id, id, kind, state, order_id, party_id, rule_ids, amount_minor, currency,
                              opened_at, opened_by, involved, updated_at)
     VALUES ($1, $2, 'dispute', 'open', $3, $4, '{}', $5, $6, $7, $8, ARRAY[$9::text], $7)`,
    [
      tenant_id,
      opened.id,
      opened.order_id,
      opened.party_id,
      opened.amount_minor,
      opened.currency,
      now,
      opened.opened_by,
      opened.involved,
    ],
  );
}

/** A first approval waits for a second person: the case holds the pending decision. */
export async function updateCasePending(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  pending: PendingDecision,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE audit_cases SET state = 'awaiting_second_approval', pending = $3::text::jsonb, updated_at = $4
      WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, case_id, JSON.stringify(pending), now],
  );
}

/** Closes a case with its decision (approved, rejected, ...), dropping any pending one. */
export async function updateCaseDecided(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  state: CaseState,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE audit_cases SET state = $3, pending = NULL, decided_at = $4, updated_at = $4
      WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, case_id, state, now],
  );
}

/** A rejected proposal leaves the case open for another (decisions §15): state rejected, nothing decided. */
export async function updateCaseRejected(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE audit_cases SET state = 'rejected', pending = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, case_id, now],
  );
}
