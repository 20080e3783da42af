import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { ServiceContext } from "../service/context.ts";
import { createDemoLogins, type DemoLogin } from "../service/demo/logins.ts";
import { type DemoCredential, demo_tenant_id, seedDemo } from "../service/demo/seed.ts";
import { embeddedDataDir } from "../store/open.ts";
import { tenantHasOrders } from "../store/orders-sql.ts";
import { progressLines } from "./progress-lines.ts";

// The demo's API keys are written next to the embedded database so a restart
// can print them again: only their hashes are in the database. This file is a
// demo convenience; production keys are shown once and never stored.
export function credentialsPath(): string {
  return join(embeddedDataDir(), "demo-credentials.json");
}

export async function demoSeeded(ctx: ServiceContext, tenant_id = demo_tenant_id): Promise<boolean> {
  return tenantHasOrders(ctx.db, tenant_id);
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
  // Off a TTY the bar would print nothing for half a minute: plain lines instead.
  const tty = process.stderr.isTTY === true;
  const line = progressLines("seeding demo marketplace", Date.now());
  const { credentials, logins } = await seedDemo(ctx, {
    tenant_id,
    orders,
    progress: (done, total) => {
      if (!tty) {
        const text = line(done, total);
        if (text !== null) process.stderr.write(`${text}\n`);
        return;
      }
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  if (started) bar.stop();
  writeCredentials({ tenant_id, credentials, logins });
  return credentials;
}

interface CredentialsFile {
  tenant_id: string;
  credentials: DemoCredential[];
  logins?: DemoLogin[];
}

function writeCredentials(file: CredentialsFile): void {
  const path = credentialsPath();
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

export function storedLogins(): DemoLogin[] {
  const path = credentialsPath();
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, "utf8")) as CredentialsFile).logins ?? [];
}

/**
 * A demo seeded before the console existed has API keys but no console users:
 * create them once and keep their passwords beside the keys.
 */
export async function ensureDemoLogins(ctx: ServiceContext): Promise<DemoLogin[]> {
  const path = credentialsPath();
  if (!existsSync(path)) return [];
  const file = JSON.parse(readFileSync(path, "utf8")) as CredentialsFile;
  if (file.logins !== undefined && file.logins.length > 0) return file.logins;
  const party = (role: string) => file.credentials.find((c) => c.role === role)?.party_id ?? null;
  const logins = await createDemoLogins(ctx, file.tenant_id, {
    merchant_id: party("merchant"),
    supplier_id: party("supplier"),
    referrer_id: party("party"),
  });
  writeCredentials({ ...file, logins });
  return logins;
}

export function describeLogins(logins: readonly DemoLogin[]): string {
  return logins
    .map((l) => `  ${l.role.padEnd(15)}${(l.party_id ?? "").padEnd(12)} ${l.login.padEnd(34)} ${l.password}`)
    .join("\n");
}

export function storedCredentials(): DemoCredential[] {
  const path = credentialsPath();
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, "utf8")) as { credentials: DemoCredential[] }).credentials;
}

/** The demo's console logins (two reviewers, for the four-eyes path), as stored beside its keys. */
export function describeCredentials(credentials: readonly DemoCredential[]): string {
  return credentials.map((c) => `  ${c.role.padEnd(15)}${(c.party_id ?? "").padEnd(12)} ${c.key}`).join("\n");
}
