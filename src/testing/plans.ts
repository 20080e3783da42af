// Reading PostgreSQL's EXPLAIN (FORMAT JSON) in tests that prove a query's
// shape, on one node and on Citus alike. On Citus the coordinator's plan is a
// custom scan whose tasks carry the plan each worker made for its shard; the
// worker's plan is the one that says which index was used, and its relation
// and index names end in the shard's number (orders_102008).

import type { Queryable, Row } from "../store/database.ts";

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Actual Rows"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
  /**
   * Citus: the coordinator's custom scan, with each worker's plan for its
   * task, and the subplans Citus ran first when it could not send the
   * statement whole (each a custom scan of its own).
   */
  "Distributed Query"?: {
    Job: { Tasks: { "Remote Plan": { Plan: PlanNode }[][] }[] };
    Subplans?: { PlannedStmt: { Plan: PlanNode }[] }[];
  };
}

/** The plan document of an `EXPLAIN (FORMAT JSON)` row, parsed if the driver left it text. */
export function planOf(raw: unknown): PlanNode {
  const document = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const root = document[0]?.Plan;
  if (root === undefined) throw new Error("EXPLAIN returned no plan");
  return root;
}

/** The workers' plans under a Citus custom scan; none on one node. */
function remotePlans(plan: PlanNode): PlanNode[] {
  return (plan["Distributed Query"]?.Job.Tasks ?? []).flatMap((task) =>
    task["Remote Plan"].flat().map((document) => document.Plan),
  );
}

/** The node that did the work: the root on one node, the one worker's root under a Citus scan of one task. */
export function workingRoot(plan: PlanNode): PlanNode {
  const remote = remotePlans(plan);
  if (remote.length === 0) return unsharded(plan);
  if (remote.length !== 1) throw new Error(`${remote.length} tasks: the query was not routed to one shard`);
  return unsharded(remote[0]!);
}

/** The roots of the subplans under a Citus custom scan; none on one node. */
function subplanRoots(plan: PlanNode): PlanNode[] {
  return (plan["Distributed Query"]?.Subplans ?? []).flatMap((subplan) =>
    subplan.PlannedStmt.map((document) => document.Plan),
  );
}

/** Every node, the workers' and Citus's subplans' too, with shard numbers taken off relation and index names. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [
    unsharded(plan),
    ...[...(plan.Plans ?? []), ...remotePlans(plan), ...subplanRoots(plan)].flatMap(planNodes),
  ];
}

function unsharded(node: PlanNode): PlanNode {
  const strip = (name: string) => name.replace(/_\d+$/, "");
  return {
    ...node,
    ...(node["Relation Name"] === undefined ? {} : { "Relation Name": strip(node["Relation Name"]) }),
    ...(node["Index Name"] === undefined ? {} : { "Index Name": strip(node["Index Name"]) }),
  };
}

/**
 * The plan of the one statement `call` sends: the call runs against a handle
 * that records its SQL and answers no rows, then the statement is EXPLAINed on
 * `db` with the same parameters. For store functions whose SQL is not exported.
 */
export async function explainCall(
  db: Queryable,
  call: (tx: Queryable) => Promise<unknown>,
): Promise<PlanNode> {
  const sent: { text: string; params: readonly unknown[] }[] = [];
  const recorder: Queryable = {
    sharded: db.sharded,
    query: async <T extends Row>(text: string, params: readonly unknown[] = []) => {
      sent.push({ text, params });
      return [] as T[];
    },
  };
  await call(recorder);
  if (sent.length !== 1) throw new Error(`the call sent ${sent.length} statements, not one`);
  const [row] = await db.query<{ "QUERY PLAN": unknown }>(
    `EXPLAIN (FORMAT JSON) ${sent[0]!.text}`,
    sent[0]!.params,
  );
  return planOf(row?.["QUERY PLAN"]);
}
