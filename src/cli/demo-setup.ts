import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { ServiceContext } from "../service/context.ts";
import { type DemoCredential, type DemoLogin, demo_tenant_id, seedDemo } from "../service/demo/seed.ts";

// The demo's API keys are written next to the embedded database so a restart
// can print them again: only their hashes are in the database. This file is a
// demo convenience; production keys are shown once and never stored.
export function credentialsPath(): string {
  return join(resolve(process.env.CLEARSPLIT_DATA_DIR ?? ".clearsplit"), "demo-credentials.json");
}

export async function demoSeeded(ctx: ServiceContext, tenant_id = demo_tenant_id): Promise<boolean> {
  const rows = await ctx.db.query("SELECT 1 FROM orders WHERE tenant_id = $1 LIMIT 1", [tenant_id]);
  return rows.length > 0;
}

export async function seedWithProgress(
  ctx: ServiceContext,
  orders: number,
  tenant_id = demo_tenant_id,
): Promise<DemoCredential[]> {
  const bar = new SingleBar({
    format: "seeding demo marketplace [{bar}] {percentage}% | {value}/{total} steps | {duration}s",
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  const { credentials, logins } = await seedDemo(ctx, {
    tenant_id,
    orders,
    progress: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  if (started) bar.stop();
  const path = credentialsPath();
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ tenant_id, credentials, logins }, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

export function storedCredentials(): DemoCredential[] {
  const path = credentialsPath();
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, "utf8")) as { credentials: DemoCredential[] }).credentials;
}

/** The demo's console logins (two reviewers, for the four-eyes path), as stored beside its keys. */
export function storedLogins(): DemoLogin[] {
  const path = credentialsPath();
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, "utf8")) as { logins?: DemoLogin[] }).logins ?? [];
}

export function describeLogins(logins: readonly DemoLogin[], tenant_id = demo_tenant_id): string {
  return logins
    .map((l) => `  ${l.role.padEnd(15)}tenant ${tenant_id}  login ${l.login}  password ${l.password}`)
    .join("\n");
}

export function describeCredentials(credentials: readonly DemoCredential[]): string {
  return credentials.map((c) => `  ${c.role.padEnd(15)}${(c.party_id ?? "").padEnd(12)} ${c.key}`).join("\n");
}
