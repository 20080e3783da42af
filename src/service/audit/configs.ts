import { assert } from "../../core/assert.ts";
import {
  type AuditConfig,
  auditConfigJson,
  type LoadedConfig,
  loadAuditConfig,
} from "../../core/audit/config.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import { configs_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import {
  type AuditConfigRow,
  insertAuditConfigDraft,
  markAuditConfigPublished,
  selectAuditConfig,
  selectAuditConfigInForce,
  selectAuditConfigs,
} from "../../store/audit-configs-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import type { Actor } from "./actor.ts";
import { writeActions } from "./trail-write.ts";

// Rule configurations: drafted, back-tested, then published. The newest
// published one is in force; each draft and publication is a trail action.

const name_length_max = 200;

export type AuditConfigView = AuditConfigRow;

export async function createAuditConfigDraft(
  ctx: ServiceContext,
  tenant_id: string,
  input: { name: string; body: unknown },
  actor: Actor,
): Promise<AuditConfigView> {
  if (typeof input.name !== "string" || input.name.length < 1 || input.name.length > name_length_max)
    throw new DomainError("name_invalid", `name must be 1 to ${name_length_max} characters`, "name");
  const { config, hash } = loadAuditConfig(input.body);
  const now = ctx.now();
  const id = newId();
  const body = auditConfigJson(config);
  return inTransaction(ctx.db, async (tx) => {
    await insertAuditConfigDraft(
      tx,
      tenant_id,
      { id, name: input.name, body, hash, created_by: actor.actor },
      now,
    );
    await writeActions(
      tx,
      tenant_id,
      [
        {
          case_id: null,
          config_id: id,
          action: "config_draft",
          actor: actor.actor,
          person: actor.person,
          reason: `drafted ${input.name}`,
          config_hash: hash,
          detail: { name: input.name, body },
        },
      ],
      now,
    );
    return {
      id,
      name: input.name,
      status: "draft",
      hash,
      body,
      created_at: now,
      created_by: actor.actor,
      published_at: null,
      published_by: null,
    };
  });
}

/** Publishes a draft: it is in force from now. Publishing a published configuration returns it unchanged. */
export async function publishAuditConfig(
  ctx: ServiceContext,
  tenant_id: string,
  config_id: string,
  actor: Actor,
): Promise<AuditConfigView> {
  return inTransaction(ctx.db, async (tx) => {
    const row = await selectConfig(tx, tenant_id, config_id, true);
    if (row.status === "published") return row;
    const now = ctx.now();
    await markAuditConfigPublished(tx, tenant_id, config_id, actor.actor, now);
    await writeActions(
      tx,
      tenant_id,
      [
        {
          case_id: null,
          config_id,
          action: "config_publish",
          actor: actor.actor,
          person: actor.person,
          reason: `published ${row.name}`,
          config_hash: row.hash,
        },
      ],
      now,
    );
    return { ...row, status: "published", published_at: now, published_by: actor.actor };
  });
}

export async function selectConfig(
  tx: Queryable,
  tenant_id: string,
  config_id: string,
  lock = false,
): Promise<AuditConfigView> {
  const row = isUuid(config_id) ? await selectAuditConfig(tx, tenant_id, config_id, lock) : undefined;
  if (row === undefined)
    throw new DomainError("audit_config_not_found", `no audit configuration ${config_id}`, "id");
  return row;
}

/** Configurations newest first, one cursor page (by default the one fixed page of before). */
export async function listAuditConfigs(
  db: Queryable,
  tenant_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<AuditConfigView>> {
  const limit = pageLimit(options.limit, configs_page_max, configs_page_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("audit_configs", options.cursor, ["instant", "uuid"]);
  const rows = await selectAuditConfigs(db, tenant_id, { before, limit: limit + 1 });
  return pageOf(rows, limit, "audit_configs", (row) => [row.created_at, row.id]);
}

// Parsed configurations by hash: a hash names one immutable document.
const parsed_by_hash = new Map<string, AuditConfig>();
const parsed_cache_max = 256;

/** The configuration in force (the newest published), or null when the tenant has none. */
export async function configInForce(tx: Queryable, tenant_id: string): Promise<LoadedConfig | null> {
  const known = [...parsed_by_hash.keys()];
  let row = await selectAuditConfigInForce(tx, tenant_id, known);
  if (row === undefined) return null;
  const cached = parsed_by_hash.get(row.hash);
  if (cached !== undefined) return { config: cached, hash: row.hash };
  // Left out as known, then dropped from the cache by a concurrent call: read it whole.
  if (row.body === null) row = await selectAuditConfigInForce(tx, tenant_id);
  if (row === undefined) return null;
  assert(row.body !== null, `audit config ${row.hash} came without its body`);
  const loaded = loadAuditConfig(typeof row.body === "string" ? JSON.parse(row.body) : row.body);
  if (parsed_by_hash.size >= parsed_cache_max) parsed_by_hash.clear();
  parsed_by_hash.set(loaded.hash, loaded.config);
  return loaded;
}
