import { allocationsDifferingFromJournal } from "../bench/checks.ts";
import { consistencyProof, servedCheckpoint } from "../service/tlog/proofs.ts";
import { logVkey } from "../service/tlog/signing-keys.ts";
import { verifyCheckpoint, verifyConsistency } from "../verify/index.ts";
import { fullLedgerFindings, incrementalLedgerFindings } from "./ledger-tally.ts";
import { sequenceLog } from "./tick.ts";
import type { World } from "./world.ts";

// The invariants checked every K steps. Each problem is a sentence naming
// what broke; an empty list means the books hold. Money is compared with the
// simulation's own tally of the services' answers, not with the database's
// arithmetic, so a movement no operation asked for is caught.
//
// A check reads what changed since the last one (new postings, orders booked
// or refunded since) and the rows whose count the marketplace bounds
// (balances, accounts); a full check, at intervals that double and at the
// end, rereads everything (docs/decisions.md §28). So the cost of checking
// grows with the run, not with its square.

/** Balances summed by account purpose, one query over the balance rows. */
async function balancesByPurpose(world: World): Promise<Map<string, bigint>> {
  const rows = await world.ctx.db.query<{ purpose: string; total_minor: bigint }>(
    `SELECT a.purpose, coalesce(sum(b.posted_minor), 0)::int8 AS total_minor
       FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 GROUP BY a.purpose`,
    [world.tenant_id],
  );
  return new Map(rows.map((row) => [row.purpose, BigInt(row.total_minor)]));
}

/** No money created or lost: the books against the external flows the services acknowledged. */
export async function moneyProblems(world: World, full: boolean): Promise<string[]> {
  const { model } = world;
  const problems: string[] = [];
  const by_purpose = await balancesByPurpose(world);
  const of = (purpose: string) => by_purpose.get(purpose) ?? 0n;
  const received_minor = model.paid_in_minor - model.refunded_out_minor;
  if (-of("clearing") !== received_minor)
    problems.push(
      `clearing holds ${-of("clearing")} received from buyers, but ${model.paid_in_minor} paid − ${model.refunded_out_minor} refunded = ${received_minor}`,
    );
  if (of("paid_out") !== model.paid_out_minor)
    problems.push(`paid out is ${of("paid_out")}, but confirmed payouts total ${model.paid_out_minor}`);
  if (of("in_transit") !== model.in_transit_minor)
    problems.push(
      `in transit is ${of("in_transit")}, but payouts in transit total ${model.in_transit_minor}`,
    );
  // What the books owe the parties: everything but the external sides and the platform's own subsidy source.
  let owed_minor = 0n;
  for (const [purpose, total_minor] of by_purpose)
    if (!["clearing", "paid_out", "expense"].includes(purpose)) owed_minor += total_minor;
  const expected_minor = received_minor - model.paid_out_minor - of("expense");
  if (owed_minor !== expected_minor)
    problems.push(
      `the parties are owed ${owed_minor}, but inflows − outflows + subsidies = ${expected_minor}`,
    );
  problems.push(...(await (full ? allOrdersProblems(world) : touchedOrdersProblems(world))));
  world.model.touched_orders.clear();
  return problems;
}

/** The orders table's count and sums against the tally: every row. */
async function allOrdersProblems(world: World): Promise<string[]> {
  const { model } = world;
  const problems: string[] = [];
  const [orders] = await world.ctx.db.query<{ orders: bigint; paid: bigint; refunded: bigint }>(
    `SELECT count(*)::int8 AS orders, coalesce(sum(paid_minor), 0)::int8 AS paid,
            coalesce(sum(refunded_minor), 0)::int8 AS refunded FROM orders WHERE tenant_id = $1`,
    [world.tenant_id],
  );
  if (BigInt(orders!.orders) !== BigInt(model.orders_count))
    problems.push(`${orders!.orders} orders stored, ${model.orders_count} acknowledged`);
  if (BigInt(orders!.paid) !== model.paid_in_minor)
    problems.push(`orders record ${orders!.paid} paid, ${model.paid_in_minor} acknowledged`);
  if (BigInt(orders!.refunded) !== model.refunded_out_minor)
    problems.push(`orders record ${orders!.refunded} refunded, ${model.refunded_out_minor} acknowledged`);
  return problems;
}

/** The orders booked or refunded since the last check, each against what the services acknowledged for it. */
async function touchedOrdersProblems(world: World): Promise<string[]> {
  const touched = world.model.touched_orders;
  if (touched.size === 0) return [];
  const rows = await world.ctx.db.query<{ id: string; paid_minor: bigint; refunded_minor: bigint }>(
    `SELECT id, paid_minor, refunded_minor FROM orders WHERE tenant_id = $1 AND id = ANY($2::text[])`,
    [world.tenant_id, [...touched.keys()]],
  );
  const problems: string[] = [];
  if (rows.length !== touched.size)
    problems.push(`${rows.length} of ${touched.size} orders acknowledged since the last check are stored`);
  for (const row of rows) {
    const order = touched.get(row.id)!;
    if (BigInt(row.paid_minor) !== order.paid_minor)
      problems.push(`order ${row.id} records ${row.paid_minor} paid, ${order.paid_minor} acknowledged`);
    if (BigInt(row.refunded_minor) !== order.refunded_minor)
      problems.push(
        `order ${row.id} records ${row.refunded_minor} refunded, ${order.refunded_minor} acknowledged`,
      );
  }
  return problems;
}

/** Sequences what is queued, then checks the newest checkpoint is signed and consistent with the last one seen. */
export async function logProblems(world: World): Promise<string[]> {
  await sequenceLog(world);
  const { ctx, tenant_id, log } = world;
  const vkey = await logVkey(ctx.db, tenant_id);
  if (vkey === undefined) return log.last === null ? [] : ["the log's key vanished"];
  const checkpoint = await verifyCheckpoint(await servedCheckpoint(ctx.db, tenant_id), [vkey]);
  const last = log.last;
  log.last = { size: checkpoint.size, root: checkpoint.rootHash };
  log.checkpoints_verified++;
  if (last === null || last.size === 0n) return [];
  if (checkpoint.size < last.size) return [`the log shrank from ${last.size} to ${checkpoint.size}`];
  if (checkpoint.size === last.size)
    return Buffer.from(checkpoint.rootHash).equals(Buffer.from(last.root))
      ? []
      : [`two roots for log size ${last.size}`];
  const proof = await consistencyProof(ctx, tenant_id, last.size, checkpoint.size);
  const consistent = await verifyConsistency(
    last.size,
    checkpoint.size,
    proof.proof,
    last.root,
    checkpoint.rootHash,
  );
  return consistent ? [] : [`checkpoint ${checkpoint.size} is not consistent with ${last.size}`];
}

export interface CheckScope {
  /** Reread every row (postings, orders), not only what changed since the last check. */
  full: boolean;
  /** Recompute every order's legs, not only those booked since the last check (the end of a run). */
  all_orders: boolean;
}

/** Every invariant: the ledger's own, money against the tally, new orders' legs, the log. */
export async function invariantProblems(world: World, scope: CheckScope): Promise<string[]> {
  const { ctx, tenant_id, model } = world;
  const findings = scope.full
    ? await fullLedgerFindings(ctx.db, tenant_id, world.ledger)
    : await incrementalLedgerFindings(ctx.db, tenant_id, world.ledger);
  const problems = findings.map((finding) => `${finding.finding}: ${finding.detail}`);
  problems.push(...(await moneyProblems(world, scope.full)));
  const order_ids = scope.all_orders ? undefined : model.unchecked_order_ids;
  if (order_ids === undefined || order_ids.length > 0) {
    const differing = await allocationsDifferingFromJournal(ctx.db, tenant_id, order_ids);
    if (differing.length > 0)
      problems.push(
        `${differing.length} orders whose legs recomputed from facts and policy differ from the journal, e.g. ${differing.slice(0, 3).join(", ")}`,
      );
  }
  model.unchecked_order_ids = [];
  problems.push(...(await logProblems(world)));
  return problems;
}
