import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { isRole } from "../core/auth/roles.ts";
import { isDomainError } from "../core/errors.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../service/auth/api-keys.ts";
import { systemClock } from "../service/context.ts";
import { openDatabase } from "../store/open.ts";
import { remoteServer, throughServer } from "./remote.ts";

export const usage = `usage:
  clearsplit keys create --tenant T --name N --role R [--party P] [--expires-at ISO]
  clearsplit keys list   --tenant T [--all] [--json]
  clearsplit keys revoke --tenant T --id ID [--reason TEXT]

Creates, lists and revokes API keys. The key is printed once, at creation.
Roles: platform_admin, finance, reviewer, auditor, merchant, supplier, integration, party
(merchant, supplier and party keys name their --party; party is any other kind: referrer, logistics, tax, PSP).
`;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (error) {
    process.stderr.write(`clearsplit keys: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values } = parsed;
  if (action !== "create" && action !== "list" && action !== "revoke") {
    process.stderr.write(usage);
    return 2;
  }
  if (!values.tenant) {
    process.stderr.write(`clearsplit keys: --tenant is required\n${usage}`);
    return 2;
  }
  if (action === "create") {
    if (!values.name || !values.role || !isRole(values.role)) {
      process.stderr.write(`clearsplit keys create: --name and a valid --role are required\n${usage}`);
      return 2;
    }
    if (values["expires-at"] && Number.isNaN(new Date(values["expires-at"]).getTime())) {
      process.stderr.write("clearsplit keys create: --expires-at must be an ISO 8601 instant\n");
      return 2;
    }
  }
  if (action === "revoke" && !values.id) {
    process.stderr.write(`clearsplit keys revoke: --id is required\n${usage}`);
    return 2;
  }
  const remote = await remoteServer();
  if (remote !== null)
    return throughServer(`clearsplit keys ${action}`, remote, values.tenant, async (client) => {
      if (action === "create") {
        const created = (await client.apiKeys.create({
          name: values.name,
          role: values.role,
          ...(values.party ? { party_id: values.party } : {}),
          ...(values["expires-at"] ? { expires_at: values["expires-at"] } : {}),
        })) as { api_key: { id: string }; key: string };
        printCreated(created.api_key.id, created.key);
      } else if (action === "list") {
        const keys: ListedKey[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.apiKeys.page(
            { include_revoked: values.all === true ? "true" : "false" },
            cursor,
          );
          keys.push(...(page.items as ListedKey[]));
          cursor = page.next_cursor ?? undefined;
        } while (cursor !== undefined);
        printKeys(keys, values.json === true);
      } else {
        await client.apiKeys.revoke(values.id!);
        process.stdout.write(`revoked ${values.id}\n`);
      }
    });
  const audit = { actor: `cli:${userInfo().username}`, ip: null };
  const db = await openDatabase();
  const ctx = { db, now: systemClock };
  try {
    if (action === "create" && values.name && isRole(values.role)) {
      const expires_at = values["expires-at"] ? new Date(values["expires-at"]) : null;
      const created = await createApiKey(
        ctx,
        values.tenant,
        { name: values.name, role: values.role, party_id: values.party ?? null, expires_at },
        audit,
      );
      printCreated(created.api_key.id, created.key);
      return 0;
    }
    if (action === "list") {
      const keys: ListedKey[] = [];
      let cursor: string | undefined;
      do {
        const page = await listApiKeys(db, values.tenant, { cursor, include_revoked: values.all === true });
        keys.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      printKeys(keys, values.json === true);
      return 0;
    }
    await revokeApiKey(ctx, values.tenant, values.id!, values.reason ?? "revoked by CLI", audit);
    process.stdout.write(`revoked ${values.id}\n`);
    return 0;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    process.stderr.write(`clearsplit keys ${action}: ${error.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

interface ListedKey {
  id: string;
  name: string;
  role: string;
  party_id: string | null;
  revoked_at: Date | string | null;
  expires_at: Date | string | null;
}

function printCreated(id: string, key: string): void {
  process.stdout.write(`id:   ${id}\nkey:  ${key}\n(shown once: store it now)\n`);
}

function printKeys(keys: ListedKey[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  for (const key of keys) {
    const state = key.revoked_at
      ? "revoked"
      : key.expires_at && new Date(key.expires_at) <= new Date()
        ? "expired"
        : "active";
    process.stdout.write(
      `${key.id}  ${key.role.padEnd(14)} ${(key.party_id ?? "-").padEnd(20)} ${state.padEnd(8)} ${key.name}\n`,
    );
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      party: { type: "string" },
      "expires-at": { type: "string" },
      id: { type: "string" },
      reason: { type: "string" },
      all: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
}
