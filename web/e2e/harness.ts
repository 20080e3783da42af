import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { console_dir, ensureConsoleBuilt } from "../../src/cli/console-build.ts";
import { buildApp } from "../../src/http/app.ts";
import { type ServiceContext, systemClock } from "../../src/service/context.ts";
import type { DemoLogin } from "../../src/service/demo/logins.ts";
import { seedDemo } from "../../src/service/demo/seed.ts";
import { startEventSequencer } from "../../src/service/events/event-sequencer.ts";
import { ensureLogKeys, LogKeyStore, startSequencer } from "../../src/service/tlog/index.ts";
import type { Database } from "../../src/store/database.ts";
import { openTestDatabase } from "../../src/testing/db.ts";

// The console under test: a seeded demo marketplace in its own tenant, the real
// server with its log and event sequencers, the built console, and Debian's
// Chromium driven by playwright-core (never a downloaded browser).

export const chromium_path = process.env.CLEARSPLIT_CHROMIUM ?? "/usr/bin/chromium";
export const demo_orders = 150;
const browser_action_timeout_ms = 120_000;

export interface Harness {
  base_url: string;
  tenant_id: string;
  logins: Record<string, DemoLogin>;
  db: Database;
  ctx: ServiceContext;
  browser: BrowserContext;
  /** Resolves once the log sequencer has checkpointed everything written so far. */
  checkpointed: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  await ensureConsoleBuilt();
  const db = await openTestDatabase();
  const ctx: ServiceContext = { db, now: systemClock };
  const tenant_id = `e2e-${Date.now().toString(36)}-${process.pid}`;
  const { logins } = await seedDemo(ctx, { tenant_id, orders: demo_orders });
  const keys = new LogKeyStore({ secret: "clearsplit e2e console secret" });
  await ensureLogKeys(db, keys, [tenant_id]);
  const sequencer = startSequencer(ctx, {
    tenant_ids: [tenant_id],
    keys,
    interval_ms: 200,
    on_error: (error) => process.stderr.write(`e2e sequencer: ${String(error)}\n`),
  });
  const events = startEventSequencer(ctx, { on_error: () => {} });
  const app: FastifyInstance = await buildApp({ ctx, console_dir });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  const profile = mkdtempSync(join(tmpdir(), "clearsplit-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromium_path,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "Asia/Shanghai",
  });
  // Generous: the suite shares a small machine with everything else; a timeout here is load, not a bug.
  browser.setDefaultTimeout(browser_action_timeout_ms);
  return {
    base_url: address,
    tenant_id,
    logins: Object.fromEntries(logins.map((login) => [login.role, login])),
    db,
    ctx,
    browser,
    checkpointed: async () => {
      await sequencer.settled();
      await sequencer.settled();
    },
    close: async () => {
      await browser.close();
      await app.close();
      await sequencer.stop();
      await events.stop();
      await db.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A fresh page with no session: cookies cleared, the language remembered from before dropped. */
export async function freshPage(harness: Harness): Promise<Page> {
  await harness.browser.clearCookies();
  const page = await harness.browser.newPage();
  await page.goto(`${harness.base_url}/healthz`);
  await page.evaluate(() => localStorage.removeItem("clearsplit.lang"));
  return page;
}

export async function signIn(harness: Harness, page: Page, role: string, lang = "en"): Promise<void> {
  const login = harness.logins[role];
  if (login === undefined) throw new Error(`no demo login for ${role}`);
  await page.goto(`${harness.base_url}/?lang=${lang}`);
  await page.locator('input[name="tenant"]').fill(harness.tenant_id);
  await page.locator('input[name="login"]').fill(login.login);
  await page.locator('input[name="password"]').fill(login.password);
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor();
}
