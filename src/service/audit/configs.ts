import {
  type AuditConfig,
  auditConfigJson,
  type LoadedConfig,
  loadAuditConfig,
} from "../../core/audit/config.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import { configs_page_max } from "../../core/limits.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import type { Actor } from "./actor.ts";
import { writeActions } from "./trail-write.ts";

// Rule configurations: drafted, back-tested, then published. The newest
// published one is in force; each draft and publication is a trail action.

const name_length_max = 200;

export interface AuditConfigView {
  id: string;
  name: string;
  status: "draft" | "published";
  hash: string;
  body: unknown;
  created_at: Date;
  created_by: string;
  published_at: Date | null;
  published_by: string | null;
}

const config_columns =
  "id::text AS id, name, status, hash, body, created_at, created_by, published_at, published_by";

function viewOfRow(row: Record<string, unknown>): AuditConfigView {
  const body = row.body;
  return { ...(row as unknown as AuditConfigView), body: typeof body === "string" ? JSON.parse(body) : body };
}

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
    await tx.query(
      `INSERT INTO audit_configs (tenant_id, id, name, status, body, hash, created_at, created_by)
       VALUES ($1, $2, $3, 'draft', $4::text::jsonb, $5, $6, $7)`,
      [tenant_id, id, input.name, JSON.stringify(body), hash, now, actor.actor],
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
    await tx.query(
      `UPDATE audit_configs SET status = 'published', published_at = $3, published_by = $4
        WHERE tenant_id = $1 AND id = $2::uuid`,
      [tenant_id, config_id, now, actor.actor],
    );
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
  const rows = isUuid(config_id)
    ? await tx.query(
        `SELECT ${config_columns} FROM audit_configs WHERE tenant_id = $1 AND id = $2::uuid${lock ? " FOR UPDATE" : ""}`,
        [tenant_id, config_id],
      )
    : [];
  if (rows[0] === undefined)
    throw new DomainError("audit_config_not_found", `no audit configuration ${config_id}`, "id");
  return viewOfRow(rows[0]);
}

export async function listAuditConfigs(db: Queryable, tenant_id: string): Promise<AuditConfigView[]> {
  const rows = await db.query(
    `SELECT ${config_columns} FROM audit_configs WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [tenant_id, configs_page_max],
  );
  return rows.map(viewOfRow);
}

// Parsed configurations by hash: a hash names one immutable document.
const parsed_by_hash = new Map<string, AuditConfig>();
const parsed_cache_max = 256;

/** The configuration in force (the newest published), or null when the tenant has none. */
export async function configInForce(tx: Queryable, tenant_id: string): Promise<LoadedConfig | null> {
  const [row] = await tx.query<{ hash: string; body: unknown }>(
    `SELECT hash, body FROM audit_configs WHERE tenant_id = $1 AND status = 'published'
      ORDER BY published_at DESC, id DESC LIMIT 1`,
    [tenant_id],
  );
  if (row === undefined) return null;
  const cached = parsed_by_hash.get(row.hash);
  if (cached !== undefined) return { config: cached, hash: row.hash };
  const loaded = loadAuditConfig(typeof row.body === "string" ? JSON.parse(row.body) : row.body);
  if (parsed_by_hash.size >= parsed_cache_max) parsed_by_hash.clear();
  parsed_by_hash.set(loaded.hash, loaded.config);
  return loaded;
}
