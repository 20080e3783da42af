import { assert } from "../core/assert.ts";
import { open_case_states } from "../core/audit/four-eyes.ts";
import type { Queryable } from "./database.ts";

// While a case on an order is open (open, claimed, awaiting its second
// approval, or with a rejected proposal), the order's funds may be neither
// released nor settled. A party-level case (a rule or manual case on a party,
// no order) holds the party: its payouts stop, and the orders it is the
// merchant of are not released. Release and settlement use these forms; the
// one home of the audit holds' queries (decisions §29).

const open_states_sql = open_case_states.map((state) => `'${state}'`).join(", ");
// The predicate of the partial unique index audit_cases_open_party: a probe of it.
const party_case_sql = `c.kind <> 'dispute' AND c.order_id IS NULL AND c.state IN (${open_states_sql})`;

/**
 * A SQL predicate, true when the order `alias`.id of tenant `alias`.tenant_id
 * is blocked by an open case on it, or by an open party-level case on its
 * merchant: `WHERE NOT ${orderBlockedByCaseSql("o")}`. Two index probes.
 * `tenant` names the tenant as the query has it: a parameter (`$1`) rather
 * than the correlated column lets Citus route the whole query to one shard.
 */
export function orderBlockedByCaseSql(
  alias: string,
  order_id_column = "id",
  merchant_column = "merchant_id",
  tenant = `${alias}.tenant_id`,
): string {
  return `(EXISTS (SELECT 1 FROM audit_cases c WHERE c.tenant_id = ${tenant}
    AND c.order_id = ${alias}.${order_id_column} AND c.state IN (${open_states_sql}))
    OR EXISTS (SELECT 1 FROM audit_cases c WHERE c.tenant_id = ${tenant}
    AND c.party_id = ${alias}.${merchant_column} AND ${party_case_sql}))`;
}

/**
 * The same question as orderBlockedByCaseSql for the rows of a FROM item `alias` (with `id` and
 * `merchant_id`), as two lateral probes: `joins` to append after it and `held`, the expression.
 * An EXISTS in a select list over many estimated rows is planned as one hashed scan of every open
 * case of the tenant (seen in the release scan's generic plan, decisions §45); a lateral subquery
 * with LIMIT 1 stays a probe of audit_cases_blocking and audit_cases_open_party per row.
 */
export function orderHeldLateralSql(alias: string, tenant: string): { joins: string; held: string } {
  return {
    joins: `LEFT JOIN LATERAL (SELECT 1 AS hit FROM audit_cases c WHERE c.tenant_id = ${tenant}
        AND c.order_id = ${alias}.id AND c.state IN (${open_states_sql}) LIMIT 1) held_order ON true
      LEFT JOIN LATERAL (SELECT 1 AS hit FROM audit_cases c WHERE c.tenant_id = ${tenant}
        AND c.party_id = ${alias}.merchant_id AND ${party_case_sql} LIMIT 1) held_party ON true`,
    held: "(held_order.hit IS NOT NULL OR held_party.hit IS NOT NULL)",
  };
}

/**
 * Of these orders, the ids held by an open case, each with its case ids
 * (oldest first): cases on the order, then, unless `order_cases_only`,
 * party-level cases on its merchant. Settlement asks for order cases only: a
 * merchant's hold stops that merchant's payouts, not its suppliers' or
 * referrers' shares already released.
 */
export async function openedCaseOrderIds(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
  options: { order_cases_only?: boolean } = {},
): Promise<Map<string, string[]>> {
  if (order_ids.length === 0) return new Map();
  const party_cases = options.order_cases_only === true ? "AND false" : "";
  const rows = await tx.query<{ order_id: string; case_id: string }>(
    `SELECT x.order_id, x.case_id FROM (
       SELECT c.order_id, c.id::text AS case_id, c.opened_at, 0 AS rank FROM audit_cases c
        WHERE c.tenant_id = $1 AND c.order_id = ANY($2::text[]) AND c.state IN (${open_states_sql})
       UNION ALL
       SELECT o.id AS order_id, c.id::text AS case_id, c.opened_at, 1 AS rank
         FROM orders o JOIN audit_cases c ON c.tenant_id = o.tenant_id AND c.party_id = o.merchant_id
        WHERE o.tenant_id = $1 AND o.id = ANY($2::text[]) AND ${party_case_sql} ${party_cases}) x
      ORDER BY x.rank, x.opened_at, x.case_id`,
    [tenant_id, order_ids],
  );
  const blocked = new Map<string, string[]>();
  for (const row of rows) blocked.set(row.order_id, [...(blocked.get(row.order_id) ?? []), row.case_id]);
  return blocked;
}

/**
 * A SQL predicate, true when an open party-level case holds the party
 * `party` (a column or parameter) of tenant `tenant`: what partyHoldingCases
 * asks, for a query over many parties at once. One probe of
 * audit_cases_open_party.
 */
export function partyHeldByCaseSql(tenant: string, party: string): string {
  return `EXISTS (SELECT 1 FROM audit_cases c WHERE c.tenant_id = ${tenant} AND c.party_id = ${party} AND ${party_case_sql})`;
}

/**
 * A SQL predicate, true when an open case on the order `order` (a column or
 * parameter) of tenant `tenant` holds its funds: the order cases settlement
 * leaves out of a payout (openedCaseOrderIds with order_cases_only). One
 * probe of audit_cases_blocking.
 */
export function orderHeldByCaseSql(tenant: string, order: string): string {
  return `EXISTS (SELECT 1 FROM audit_cases c WHERE c.tenant_id = ${tenant} AND c.order_id = ${order} AND c.state IN (${open_states_sql}))`;
}

/** The open party-level cases holding this party (oldest first); empty when it is free. */
export async function partyHoldingCases(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
): Promise<string[]> {
  assert(party_id.length > 0, "a party hold names a party");
  const rows = await tx.query<{ case_id: string }>(
    `SELECT c.id::text AS case_id FROM audit_cases c
      WHERE c.tenant_id = $1 AND c.party_id = $2 AND ${party_case_sql} ORDER BY c.opened_at, c.id`,
    [tenant_id, party_id],
  );
  assert(rows.length <= 1, "at most one open party-level case per party (audit_cases_open_party)");
  return rows.map((row) => row.case_id);
}

/**
 * The open cases that hold this order, oldest first: the question of the SQL
 * function clearsplit_order_open_cases (migration 031), asked here in the
 * query itself, since Citus cannot plan a SQL function's parameterised body
 * over sharded tables (issue 20).
 */
export async function selectOrderOpenCases(
  tx: Queryable,
  tenant_id: string,
  order_id: string,
): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT x.id::text AS id FROM (
       SELECT c.id, c.opened_at FROM audit_cases c
        WHERE c.tenant_id = $1 AND c.order_id = $2 AND c.state IN (${open_states_sql})
       UNION ALL
       SELECT c.id, c.opened_at FROM audit_cases c
         JOIN orders o ON o.tenant_id = c.tenant_id AND o.merchant_id = c.party_id
        WHERE c.tenant_id = $1 AND o.tenant_id = $1 AND o.id = $2 AND ${party_case_sql}) AS x
      ORDER BY x.opened_at, x.id`,
    [tenant_id, order_id],
  );
  return rows.map((row) => row.id);
}
