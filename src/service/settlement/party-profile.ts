import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { name_length_max } from "../../core/limits.ts";
import { maskAccountRef, parseProfile, profileJson } from "../../core/settlement/profile.ts";
import { canonicalJsonSha256Hex } from "../../core/sha256.ts";
import {
  insertPartyVersion,
  lockPartyVersionRow,
  type PartyVersionRow as PartyRow,
  updatePartyVersion,
} from "../../store/parties-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { writeSteps } from "../../store/write-set.ts";
import { recordSecurityEvent } from "../auth/security-events.ts";
import type { ServiceContext } from "../context.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import { forgetParty } from "../orders/party-accounts.ts";

/** active; suspended: never paid out; inactive: named by no new order (its orders run their course). */
export const party_statuses = ["active", "suspended", "inactive"] as const;
export type PartyStatus = (typeof party_statuses)[number];

export interface PartyPatch {
  name?: string | undefined;
  status?: PartyStatus | undefined;
  settlement?: unknown;
  /** Optimistic concurrency: the version the caller read; a newer one is a conflict. */
  version?: number | undefined;
}

export interface PartyVersionView {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
  status: PartyStatus;
  version: number;
  settlement: Record<string, unknown>;
  created_at: Date;
}

/**
 * Changes a party's name, status or settlement profile. Every change is a new
 * version kept in party_versions (the first change also keeps the original as
 * version 1) and a `party.updated` event; a change of the profile or status is
 * also a security event (`party_settlement_changed`). The profile is checked
 * in full before anything is written. A new profile takes effect from the
 * next cycle: a run reads the version in force at its day's cut-off
 * (profileAsOfSql in store/settlement-runs-sql.ts), so a change cannot redirect a payout already due.
 */
export function updateParty(
  ctx: ServiceContext,
  tenant_id: string,
  party_id: string,
  patch: PartyPatch,
  changed_by: string,
  ip: string | null = null,
): Promise<PartyVersionView> {
  if (
    patch.name !== undefined &&
    (typeof patch.name !== "string" || patch.name.length === 0 || patch.name.length > name_length_max)
  )
    throw new DomainError("party_name_invalid", `name must be 1 to ${name_length_max} characters`, "name");
  if (patch.status !== undefined && !party_statuses.includes(patch.status))
    throw new DomainError(
      "party_status_invalid",
      `status must be one of ${party_statuses.join(", ")}`,
      "status",
    );
  const settlement = patch.settlement === undefined ? undefined : profileJson(parseProfile(patch.settlement));
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockPartyVersionRow(tx, tenant_id, party_id);
    if (row === undefined)
      throw new DomainError("party_not_found", `no party ${JSON.stringify(party_id)}`, "id");
    const version = Number(row.version);
    if (patch.version !== undefined && patch.version !== version)
      throw new DomainError(
        "party_version_conflict",
        `party ${party_id} is at version ${version}, not ${patch.version}`,
        "version",
        {
          current_version: version,
        },
      );
    const next = {
      name: patch.name ?? row.name,
      status: patch.status ?? row.status,
      settlement: settlement ?? (row.settlement as Record<string, unknown>),
    };
    const now = ctx.now();
    const unchanged =
      next.name === row.name &&
      next.status === row.status &&
      JSON.stringify(next.settlement) === JSON.stringify(row.settlement);
    if (unchanged) return view(row, version, next);
    if (version === 1)
      await insertPartyVersion(tx, tenant_id, {
        party_id,
        version: 1,
        name: row.name,
        status: row.status,
        settlement: row.settlement,
        changed_by: "created",
        created_at: row.created_at,
      });
    const new_version = version + 1;
    assert(new_version > version, "versions only grow");
    await updatePartyVersion(tx, tenant_id, party_id, {
      ...next,
      version: new_version,
      deactivated_at: next.status === "inactive" ? (row.status === "inactive" ? undefined : now) : null,
    });
    await insertPartyVersion(tx, tenant_id, {
      party_id,
      version: new_version,
      name: next.name,
      status: next.status,
      settlement: next.settlement,
      changed_by,
      created_at: now,
    });
    if (next.status !== row.status) forgetParty(tenant_id, party_id);
    const changed = [
      ...(next.name !== row.name ? ["name"] : []),
      ...(next.status !== row.status ? ["status"] : []),
      ...(settlement !== undefined && JSON.stringify(settlement) !== JSON.stringify(row.settlement)
        ? ["settlement"]
        : []),
    ];
    if (changed.includes("settlement") || changed.includes("status"))
      await recordSecurityEvent(
        tx,
        {
          tenant_id,
          actor: changed_by,
          ip,
          action: "party_settlement_changed",
          outcome: "success",
          subject: `party:${party_id}`,
          detail: profileChangeDetail(row, next, new_version, changed, now),
        },
        now,
      );
    await writeSteps(tx, [
      eventsWrite(
        tenant_id,
        [
          {
            type: "party.updated",
            party_ids: [party_id],
            payload: { party_id, version: new_version, changed, changed_by },
          },
        ],
        now,
      ),
    ]);
    return view(row, new_version, next);
  });
}

/**
 * What a profile change did, for the security trail: hashes of the old and
 * new profile (RFC 8785), the account references masked, and the first run
 * date it applies to.
 */
function profileChangeDetail(
  row: PartyRow,
  next: { status: PartyStatus; settlement: Record<string, unknown> },
  version: number,
  changed: readonly string[],
  now: Date,
): Record<string, unknown> {
  const before = parseProfileSafe(row.settlement);
  const after = parseProfileSafe(next.settlement);
  assert(after !== null, "a stored profile parses");
  return {
    party_id: row.id,
    version,
    changed: [...changed],
    status: { before: row.status, after: next.status },
    settlement_sha256: {
      before: canonicalJsonSha256Hex(row.settlement ?? {}),
      after: canonicalJsonSha256Hex(next.settlement),
    },
    payout_account_ref: {
      before: before === null ? null : maskAccountRef(before.payout_account_ref),
      after: maskAccountRef(after.payout_account_ref),
    },
    // Runs read the profile in force at their day's start (UTC): this change applies from the next day's run.
    effective_from_run_date: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
      .toISOString()
      .slice(0, 10),
  };
}

function view(
  row: PartyRow,
  version: number,
  next: { name: string; status: PartyStatus; settlement: Record<string, unknown> },
): PartyVersionView {
  return {
    id: row.id,
    kind: row.kind,
    name: next.name,
    parent_id: row.parent_id,
    status: next.status,
    version,
    settlement: next.settlement,
    created_at: row.created_at,
  };
}

/** The profile as a caller may see it: the account reference masked unless `full_account`. */
export function settlementView(settlement: unknown, full_account: boolean): Record<string, unknown> {
  const profile = parseProfileSafe(settlement);
  if (profile === null) return {};
  const json = profileJson(profile);
  return full_account ? json : { ...json, payout_account_ref: maskAccountRef(profile.payout_account_ref) };
}

function parseProfileSafe(settlement: unknown) {
  try {
    return parseProfile(settlement);
  } catch {
    return null;
  }
}
