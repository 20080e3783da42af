import type { Principal } from "../../core/auth/roles.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { disputes_page_items_default, disputes_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import { insertDisputeCase, selectCase } from "../../store/audit-sql.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { type DisputeListRow, insertDispute, selectDisputes } from "../../store/disputes-sql.ts";
import { transactionOfOrderExists } from "../../store/ledger-sql.ts";
import { selectOrderOfParty } from "../../store/orders-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { withReadScope } from "../../store/scoped.ts";
import { verifyBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { logVkey } from "../tlog/signing-keys.ts";
import type { Actor } from "./actor.ts";
import { type CaseView, caseView, checkReason } from "./cases.ts";
import { caseEventPayload } from "./hits.ts";
import { writeActions } from "./trail-write.ts";

// Merchant and supplier disputes: a party contests one of its legs or
// entries, attaching the proof bundle it was given. The dispute opens its own
// case on the order (which holds the order's funds like any open case); the
// party sees its disputes and their trails, and no one else's.

export interface DisputeInput {
  order_id: string;
  reason: string;
  /** The journal transaction (a log record id) whose entry is contested. */
  record_id?: string | undefined;
  bundle?: unknown;
}

export interface DisputeView {
  id: string;
  case_id: string;
  party_id: string;
  order_id: string;
  record_id: string | null;
  reason: string;
  bundle_verified: boolean;
  created_at: Date;
  case: CaseView;
}

export async function openDispute(
  ctx: ServiceContext,
  principal: Principal,
  input: DisputeInput,
  actor: Actor,
): Promise<DisputeView> {
  const party_id = principal.party_id;
  if (party_id === null)
    throw new DomainError(
      "forbidden",
      "only a party-scoped caller (merchant, supplier or party) opens a dispute, about its own legs",
    );
  checkReason(input.reason);
  const tenant_id = principal.tenant_id;
  const record_id = input.record_id ?? null;
  const bundle_verified =
    input.bundle === undefined ? false : await checkBundle(ctx.db, tenant_id, input, party_id);
  return inTransaction(ctx.db, async (tx) => {
    const order = await selectOrderOfParty(tx, tenant_id, input.order_id, party_id);
    // Another party's order is answered exactly like a missing one.
    if (order === undefined)
      throw new DomainError("order_not_found", `no order ${JSON.stringify(input.order_id)}`, "order_id");
    if (record_id !== null) await checkRecord(tx, tenant_id, record_id, input.order_id);
    const now = ctx.now();
    const case_id = newId();
    const dispute_id = newId();
    await insertDisputeCase(
      tx,
      tenant_id,
      {
        id: case_id,
        order_id: input.order_id,
        party_id,
        amount_minor: order.paid_minor,
        currency: order.currency,
        opened_by: actor.actor,
        involved: actor.person ?? actor.actor,
      },
      now,
    );
    await insertDispute(
      tx,
      tenant_id,
      {
        id: dispute_id,
        case_id,
        party_id,
        order_id: input.order_id,
        record_id,
        reason: input.reason,
        bundle_json: input.bundle === undefined ? null : JSON.stringify(input.bundle),
        bundle_verified,
        created_by: actor.actor,
      },
      now,
    );
    const row = (await selectCase(tx, tenant_id, case_id))!;
    await writeActions(
      tx,
      tenant_id,
      [
        {
          case_id,
          action: "dispute",
          actor: actor.actor,
          person: actor.person,
          reason: input.reason,
          detail: { dispute_id, order_id: input.order_id, record_id, bundle_verified },
          party_ids: [party_id],
        },
      ],
      now,
    );
    await enqueueEvents(
      tx,
      tenant_id,
      [
        { type: "dispute.opened", party_ids: [party_id], payload: { dispute_id, ...caseEventPayload(row) } },
        { type: "audit.case_opened", party_ids: [], payload: caseEventPayload(row) },
      ],
      now,
    );
    return {
      id: dispute_id,
      case_id,
      party_id,
      order_id: input.order_id,
      record_id,
      reason: input.reason,
      bundle_verified,
      created_at: now,
      case: caseView(row),
    };
  });
}

/** The attached bundle must verify against this log's key and concern the disputing party. */
async function checkBundle(
  db: Queryable,
  tenant_id: string,
  input: DisputeInput,
  party_id: string,
): Promise<boolean> {
  const vkey = await logVkey(db, tenant_id);
  if (vkey === undefined)
    throw new DomainError("bundle_invalid", "this tenant's log has no key yet", "bundle");
  let disclosed: { party_id: string }[] = [];
  try {
    ({ disclosed } = await verifyBundle(input.bundle, [vkey]));
  } catch (error) {
    throw new DomainError(
      "bundle_invalid",
      `the proof bundle does not verify: ${(error as Error).message}`,
      "bundle",
    );
  }
  const record = (
    input.bundle as { record?: { id?: unknown; order_id?: unknown; entries?: { party_id?: unknown }[] } }
  ).record;
  if (record?.order_id !== input.order_id)
    throw new DomainError("bundle_invalid", "the bundle's record is not about this order", "bundle");
  if (input.record_id !== undefined && record.id !== input.record_id)
    throw new DomainError("bundle_invalid", "the bundle's record is not record_id", "bundle");
  // A party's bundle opens only its own part (selective disclosure); a whole record lists every entry.
  const in_part = disclosed.some((part) => part.party_id === party_id);
  const in_entries =
    Array.isArray(record.entries) && record.entries.some((entry) => entry.party_id === party_id);
  if (!in_part && !in_entries)
    throw new DomainError("bundle_invalid", "the bundle's record has no entry of yours", "bundle");
  return true;
}

async function checkRecord(
  tx: Queryable,
  tenant_id: string,
  record_id: string,
  order_id: string,
): Promise<void> {
  const found = /^[0-9a-f-]{36}$/.test(record_id)
    ? await transactionOfOrderExists(tx, tenant_id, record_id, order_id)
    : false;
  if (!found)
    throw new DomainError(
      "record_not_found",
      `no journal transaction ${record_id} on order ${order_id}`,
      "record_id",
    );
}

/** Disputes newest first, one cursor page: a party sees its own (row-level security agrees), platform roles all. */
export async function listDisputes(
  db: Database,
  scope: ReadScope,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<DisputeListRow>> {
  const limit = pageLimit(options.limit, disputes_page_items_default, disputes_page_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("disputes", options.cursor, ["instant", "uuid"]);
  const rows = await withReadScope(db, scope, (tx) =>
    selectDisputes(tx, scope.tenant_id, { party_id: scope.party_id, before, limit: limit + 1 }),
  );
  return pageOf(rows, limit, "disputes", (row) => [row.created_at, row.id]);
}
