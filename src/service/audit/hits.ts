import { assert } from "../../core/assert.ts";
import { inputsSha256 } from "../../core/audit/config.ts";
import type { Hit } from "../../core/audit/types.ts";
import { newId } from "../../core/ids.ts";
import { hits_per_call_max } from "../../core/limits.ts";
import { minorToJson } from "../../core/split/allocation-json.ts";
import {
  type CaseSubject,
  insertHit,
  insertOpenCase,
  joinOpenCase,
  selectKnownHitKeys,
} from "../../store/audit-hits-sql.ts";
import type { CaseKind, CaseRow } from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { writeActions } from "./trail-write.ts";

export interface RaiseOptions {
  /** The configuration the rule ran under; null for hits raised outside it (a manual flag). */
  config_hash: string | null;
  /** Who raised it: `system:audit`, `system:settlement`, or a principal's actor. */
  actor: string;
  person?: string | null;
  /** A manual flag's case is about its raiser's judgement: they may not decide it. */
  involved?: readonly string[];
  kind?: CaseKind;
}

export interface RaisedHit {
  hit_id: string;
  case_id: string;
  /** Whether this hit opened the case (false: added to an open one). */
  opened: boolean;
}

/**
 * Records rule hits inside the caller's transaction: each opens a case on its
 * order (or on its party, for party-level rules), or adds to the open one.
 * A hit whose dedupe key is already recorded is skipped, so a redelivered
 * event or a re-run reconciliation adds nothing. Every hit and opening is an
 * action of the trail, hence a log record; an opening is also an event.
 *
 * For settlement (issue 15): `raiseAuditHit(tx, tenant_id, {rule_id:
 * "reconciliation_mismatch", order_id, party_id, amount_minor, currency,
 * reason, inputs, dedupe_key}, {config_hash: null, actor: "system:settlement"})`.
 */
export async function raiseAuditHits(
  tx: Queryable,
  tenant_id: string,
  hits: readonly Hit[],
  options: RaiseOptions,
  now: Date,
): Promise<(RaisedHit | null)[]> {
  assert(hits.length <= hits_per_call_max, `at most ${hits_per_call_max} hits at once`);
  if (hits.length === 0) return [];
  const seen = new Set(
    await selectKnownHitKeys(
      tx,
      tenant_id,
      hits.map((hit) => hit.dedupe_key),
    ),
  );
  const out: (RaisedHit | null)[] = [];
  for (const hit of hits) {
    if (seen.has(hit.dedupe_key)) {
      out.push(null);
      continue;
    }
    seen.add(hit.dedupe_key);
    out.push(await raiseOne(tx, tenant_id, hit, options, now));
  }
  return out;
}

/** One hit; see raiseAuditHits. */
export async function raiseAuditHit(
  tx: Queryable,
  tenant_id: string,
  hit: Hit,
  options: RaiseOptions,
  now: Date,
): Promise<RaisedHit | null> {
  const [raised] = await raiseAuditHits(tx, tenant_id, [hit], options, now);
  return raised ?? null;
}

async function raiseOne(
  tx: Queryable,
  tenant_id: string,
  hit: Hit,
  options: RaiseOptions,
  now: Date,
): Promise<RaisedHit | null> {
  assert(hit.order_id !== null || hit.party_id !== null, "a hit names an order or a party");
  assert(hit.amount_minor >= 0n, "a hit's amount is not negative");
  const { row, opened } = await openOrJoin(tx, tenant_id, hit, options, now);
  const hit_id = newId();
  const inputs_sha256 = inputsSha256(hit.inputs);
  const inserted = await insertHit(
    tx,
    tenant_id,
    {
      id: hit_id,
      case_id: row.id,
      rule_id: hit.rule_id,
      config_hash: options.config_hash,
      dedupe_key: hit.dedupe_key,
      order_id: hit.order_id,
      party_id: hit.party_id,
      reason: hit.reason,
      inputs: hit.inputs,
      inputs_sha256,
    },
    now,
  );
  // A concurrent writer recorded the same key first: this one is a replay.
  if (!inserted && !opened) return null;
  const common = { case_id: row.id, actor: options.actor, person: options.person ?? null };
  const detail = {
    hit_id,
    rule_id: hit.rule_id,
    order_id: hit.order_id,
    party_id: hit.party_id,
    inputs: hit.inputs,
  };
  await writeActions(
    tx,
    tenant_id,
    [
      ...(opened
        ? [
            {
              ...common,
              action: "open" as const,
              reason: `opened by ${hit.rule_id}`,
              config_hash: options.config_hash,
              detail: caseDetail(row),
            },
          ]
        : []),
      {
        ...common,
        action: "hit" as const,
        reason: hit.reason,
        config_hash: options.config_hash,
        inputs_sha256,
        detail,
      },
    ],
    now,
  );
  if (opened) {
    await enqueueEvents(
      tx,
      tenant_id,
      [{ type: "audit.case_opened", party_ids: [], payload: caseEventPayload(row) }],
      now,
    );
  }
  return { hit_id, case_id: row.id, opened };
}

async function openOrJoin(
  tx: Queryable,
  tenant_id: string,
  hit: Hit,
  options: RaiseOptions,
  now: Date,
): Promise<{ row: CaseRow; opened: boolean }> {
  const subject: CaseSubject =
    hit.order_id !== null ? { order_id: hit.order_id } : { party_id: hit.party_id! };
  const kind = options.kind ?? "rule";
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await joinOpenCase(tx, tenant_id, subject, hit, now);
    if (existing !== undefined) return { row: existing, opened: false };
    const created = await insertOpenCase(
      tx,
      tenant_id,
      {
        id: newId(),
        kind,
        order_id: hit.order_id,
        party_id: hit.party_id,
        rule_id: hit.rule_id,
        amount_minor: hit.amount_minor,
        currency: hit.currency,
        config_hash: options.config_hash,
        opened_by: options.actor,
        involved: options.involved ?? [],
      },
      now,
    );
    if (created !== undefined) return { row: created, opened: true };
    // Another transaction opened the case between our update and insert: join it.
  }
  throw new Error(`could not open or join a case for ${hit.dedupe_key}`);
}

function caseDetail(row: CaseRow): Record<string, unknown> {
  return {
    kind: row.kind,
    order_id: row.order_id,
    party_id: row.party_id,
    amount_minor: minorToJson(row.amount_minor),
    currency: row.currency,
  };
}

export function caseEventPayload(row: CaseRow): Record<string, unknown> {
  return { case_id: row.id, state: row.state, rule_ids: row.rule_ids, ...caseDetail(row) };
}
