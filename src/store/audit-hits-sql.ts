import { open_case_states } from "../core/audit/four-eyes.ts";
import { type CaseKind, type CaseRow, case_columns, caseOfRow } from "./audit-sql.ts";
import { arrayLiteral, type Queryable } from "./database.ts";

// The one home of the `audit_hits` table's writes and of the case a hit opens
// or joins (decisions §29); service/audit/hits.ts keeps the rules.

const open_states_sql = `(${open_case_states.map((s) => `'${s}'`).join(", ")})`;

/** Which of these dedupe keys a hit was already recorded under. */
export async function selectKnownHitKeys(
  tx: Queryable,
  tenant_id: string,
  dedupe_keys: readonly string[],
): Promise<string[]> {
  const known = await tx.query<{ dedupe_key: string }>(
    "SELECT dedupe_key FROM audit_hits WHERE tenant_id = $1 AND dedupe_key = ANY($2::text[])",
    [tenant_id, dedupe_keys],
  );
  return known.map((row) => row.dedupe_key);
}

/** Records a hit on its case; false when a hit with its dedupe key was recorded first. */
export async function insertHit(
  tx: Queryable,
  tenant_id: string,
  hit: {
    id: string;
    case_id: string;
    rule_id: string;
    config_hash: string | null;
    dedupe_key: string;
    order_id: string | null;
    party_id: string | null;
    reason: string;
    inputs: unknown;
    inputs_sha256: string;
  },
  now: Date,
): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO audit_hits (tenant_id, id, case_id, rule_id, config_hash, dedupe_key, order_id, party_id, reason,
                             inputs, inputs_sha256, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12)
     ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING 1`,
    [
      tenant_id,
      hit.id,
      hit.case_id,
      hit.rule_id,
      hit.config_hash,
      hit.dedupe_key,
      hit.order_id,
      hit.party_id,
      hit.reason,
      JSON.stringify(hit.inputs),
      hit.inputs_sha256,
      now,
    ],
  );
  return inserted.length > 0;
}

/** What a case is about: its order, or (no order) its party. */
export type CaseSubject = { order_id: string } | { party_id: string };

/**
 * Adds the rule and amount to the open case (not a dispute) on the subject, if
 * there is one, and returns it; undefined when there is none.
 */
export async function joinOpenCase(
  tx: Queryable,
  tenant_id: string,
  subject: CaseSubject,
  hit: { rule_id: string; amount_minor: bigint },
  now: Date,
): Promise<CaseRow | undefined> {
  const where =
    "order_id" in subject
      ? { sql: "order_id = $2", value: subject.order_id }
      : { sql: "order_id IS NULL AND party_id = $2", value: subject.party_id };
  const [existing] = await tx.query(
    `UPDATE audit_cases
        SET rule_ids = CASE WHEN $3 = ANY(rule_ids) THEN rule_ids ELSE rule_ids || ARRAY[$3::text] END,
            amount_minor = greatest(amount_minor, $4::int8), updated_at = $5
      WHERE tenant_id = $1 AND ${where.sql} AND kind <> 'dispute' AND state IN ${open_states_sql}
      RETURNING ${case_columns}`,
    [tenant_id, where.value, hit.rule_id, hit.amount_minor, now],
  );
  return existing === undefined ? undefined : caseOfRow(existing);
}

/** Opens a case with its first rule; undefined when another transaction opened one on the subject first. */
export async function insertOpenCase(
  tx: Queryable,
  tenant_id: string,
  opened: {
    id: string;
    kind: CaseKind;
    order_id: string | null;
    party_id: string | null;
    rule_id: string;
    amount_minor: bigint;
    currency: string;
    config_hash: string | null;
    opened_by: string;
    involved: readonly string[];
  },
  now: Date,
): Promise<CaseRow | undefined> {
  const [created] = await tx.query(
    `INSERT INTO audit_cases (tenant_id, id, kind, state, order_id, party_id, rule_ids, amount_minor, currency,
                              config_hash, opened_at, opened_by, involved, updated_at)
     VALUES ($1, $2, $3, 'open', $4, $5, ARRAY[$6::text], $7, $8, $9, $10, $11, $12::text[], $10)
     ON CONFLICT DO NOTHING RETURNING ${case_columns}`,
    [
      tenant_id,
      opened.id,
      opened.kind,
      opened.order_id,
      opened.party_id,
      opened.rule_id,
      opened.amount_minor,
      opened.currency,
      opened.config_hash,
      now,
      opened.opened_by,
      arrayLiteral(opened.involved),
    ],
  );
  return created === undefined ? undefined : caseOfRow(created);
}
