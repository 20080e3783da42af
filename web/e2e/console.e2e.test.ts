import { mkdirSync, writeFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refundOrder } from "../../src/service/orders/order-lifecycle.ts";
import { en } from "../src/i18n/messages/en.ts";
import { zh_CN } from "../src/i18n/messages/zh-CN.ts";
import { zh_TW } from "../src/i18n/messages/zh-TW.ts";
import { freshPage, type Harness, signIn, startHarness } from "./harness.ts";

// Each role's main path through the console on a seeded demo marketplace, in
// real Chromium: what a person clicks, what they must not reach, proofs checked
// in the browser, every language, and screenshots for a person to look at.

const shots_dir = "test-results/console";
const langs = ["zh-CN", "zh-TW", "en"] as const;
const catalogues = { en, "zh-CN": zh_CN, "zh-TW": zh_TW } as const;
let harness: Harness;

beforeAll(async () => {
  mkdirSync(shots_dir, { recursive: true });
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  // The live stream keeps the network busy, so "network idle" never comes: let charts finish drawing.
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${shots_dir}/${name}.png`, fullPage: true });
}

async function orderOf(merchant: "own" | "other"): Promise<string> {
  const own = harness.logins.merchant!.party_id!;
  const rows = await harness.db.query<{ id: string }>(
    `SELECT id FROM orders WHERE tenant_id = $1 AND ${
      merchant === "own"
        ? "merchant_id = $2"
        : "merchant_id <> $2 AND NOT clearsplit_order_has_party(tenant_id, id, $2)"
    } ORDER BY paid_at DESC LIMIT 1`,
    [harness.tenant_id, own],
  );
  if (rows[0] === undefined) throw new Error(`the demo has no ${merchant} order`);
  return rows[0].id;
}

describe("web console", () => {
  it("serves the console at / and deep links, and never for the API's own paths", async () => {
    const html = await fetch(`${harness.base_url}/orders/anything`, { headers: { accept: "text/html" } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toContain("text/html");
    expect(html.headers.get("content-security-policy")).toContain("script-src 'self'");
    for (const path of ["/v1/nothing", "/log/nothing", "/openapi.json/x", "/assets/missing.js"]) {
      const response = await fetch(`${harness.base_url}${path}`, { headers: { accept: "text/html" } });
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type"), path).toContain("application/problem+json");
    }
  });

  it("platform admin: signs in, sees the dashboard, opens an order with its split, and signs out", async () => {
    const page = await freshPage(harness);
    const cdp = await harness.browser.newCDPSession(page);
    await cdp.send("Performance.enable");
    const started_ms = Date.now();
    await page.goto(`${harness.base_url}/?lang=en`);
    await page.locator('input[name="login"]').waitFor();
    const sign_in_interactive_ms = Date.now() - started_ms;
    // Wall time depends on the machine's load; the main thread's own busy time much less so.
    const { metrics } = (await cdp.send("Performance.getMetrics")) as {
      metrics: { name: string; value: number }[];
    };
    const busy_ms = (name: string) => Math.round((metrics.find((m) => m.name === name)?.value ?? 0) * 1000);
    const navigation = await page.evaluate(() => {
      const entry = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      return {
        dom_interactive_ms: Math.round(entry.domInteractive),
        load_ms: Math.round(entry.loadEventEnd),
      };
    });
    await signIn(harness, page, "platform_admin");
    await page.getByTestId("stat-gmv").waitFor();
    expect(await page.getByTestId("stat-gmv").innerText()).toMatch(/CNY\s?[\d,]+\.\d{2}/);
    await page.locator("canvas").first().waitFor();
    const dashboard_ms = Date.now() - started_ms;
    await shot(page, "en-dashboard");
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await page.getByTestId("orders-table").locator("tbody tr a").first().waitFor();
    await page.getByTestId("orders-table").locator("tbody tr a").first().click();
    await page.getByTestId("split-table").waitFor();
    expect(page.url()).toMatch(/\/orders\/[^/]+$/);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByText("demo platform admin").waitFor();
    await page.getByTestId("sign-out").click();
    await page.locator('input[name="password"]').waitFor();
    const me = await page.evaluate(async () => (await fetch("/v1/auth/me")).status);
    expect(me).toBe(401);
    writeFileSync(
      `${shots_dir}/metrics.json`,
      `${JSON.stringify(
        {
          sign_in_interactive_ms,
          sign_in_main_thread_task_ms: busy_ms("TaskDuration"),
          sign_in_script_ms: busy_ms("ScriptDuration"),
          ...navigation,
          dashboard_ms,
        },
        null,
        2,
      )}\n`,
    );
    await page.close();
  });

  it("finance and reviewer: land on the dashboard and can open the order list", async () => {
    for (const role of ["finance", "reviewer"]) {
      const page = await freshPage(harness);
      await signIn(harness, page, role);
      await page.getByTestId("stat-gmv").waitFor();
      await page.goto(`${harness.base_url}/orders?state=released`);
      await page.getByTestId("orders-table").locator("tbody tr a").first().waitFor();
      await page.close();
    }
  });

  it("merchant: the portal shows its balances and entries, and Verify proves an entry in the browser", async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "merchant");
    expect(new URL(page.url()).pathname).toBe("/portal");
    await page.getByTestId("balances").first().waitFor();
    const entries = page.getByTestId("entries-table");
    await entries.getByTestId("verify-record").first().click();
    const result = entries.getByTestId("verify-result").first();
    await result.waitFor();
    expect(await result.getAttribute("data-status")).toBe("ok");
    expect(
      Number((await result.getByTestId("verify-tree-size").innerText()).replaceAll(",", "")),
    ).toBeGreaterThan(0);
    await shot(page, "en-portal");
    await page.close();
  });

  it("a tampered proof bundle fails visibly", async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "merchant");
    await page.route("**/v1/records/*/proof", async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      // Flip one bit of one byte inside the record's amounts: still JSON, no longer the logged record.
      const at = body.indexOf(Buffer.from('"amount_minor":')) + '"amount_minor":'.length;
      body[at] = body[at]! ^ 0x01;
      await route.fulfill({ response, body });
    });
    const entries = page.getByTestId("entries-table");
    await entries.getByTestId("verify-record").first().click();
    const result = entries.getByTestId("verify-result").first();
    await result.waitFor();
    expect(await result.getAttribute("data-status")).toBe("failed");
    await page.close();
  });

  it("a merchant who pastes another merchant's order or party URL sees not-found", async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "merchant");
    await page.goto(`${harness.base_url}/orders/${encodeURIComponent(await orderOf("own"))}`);
    await page.getByTestId("split-table").waitFor();
    await page.getByTestId("verify-record").first().click();
    expect(await page.getByTestId("verify-result").first().getAttribute("data-status")).toBe("ok");
    await page.goto(`${harness.base_url}/orders/${encodeURIComponent(await orderOf("other"))}`);
    await page.getByTestId("not-found").waitFor();
    const other = await harness.db.query<{ id: string }>(
      "SELECT id FROM parties WHERE tenant_id = $1 AND kind = 'merchant' AND id <> $2 LIMIT 1",
      [harness.tenant_id, harness.logins.merchant!.party_id],
    );
    await page.goto(`${harness.base_url}/parties/${encodeURIComponent(other[0]!.id)}`);
    await page.getByTestId("not-found").waitFor();
    await page.goto(`${harness.base_url}/api-keys`);
    await page.getByTestId("not-found").waitFor();
    await page.close();
  });

  it("supplier: the portal lists its orders, each with a Verify button", async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "supplier");
    await page.getByRole("tab", { name: "Orders" }).click();
    const orders = page.getByTestId("party-orders-table");
    await orders.getByTestId("verify-record").first().click();
    expect(await orders.getByTestId("verify-result").first().getAttribute("data-status")).toBe("ok");
    await page.close();
  });

  it("auditor: the latest checkpoint and a consistency proof are checked in the browser", async () => {
    // Two checkpoints to prove consistency between: the seed's, and one after a new refund.
    await harness.checkpointed();
    const [order] = await harness.db.query<{ id: string }>(
      "SELECT id FROM orders WHERE tenant_id = $1 AND refunded_minor < paid_minor ORDER BY id LIMIT 1",
      [harness.tenant_id],
    );
    await refundOrder(
      harness.ctx,
      harness.tenant_id,
      order!.id,
      { refund_id: "e2e-1", amount_minor: 1 },
      "refund",
    );
    await harness.checkpointed();
    const page = await freshPage(harness);
    await signIn(harness, page, "auditor");
    expect(new URL(page.url()).pathname).toBe("/auditor");
    const checkpoint = page.getByTestId("checkpoint-result");
    await checkpoint.waitFor();
    expect(await checkpoint.getAttribute("data-status")).toBe("ok");
    await page.getByTestId("consistency-check").click();
    const consistency = page.getByTestId("consistency-result");
    await consistency.waitFor();
    expect(await consistency.getAttribute("data-status")).toBe("ok");
    await shot(page, "en-auditor");
    await page.close();
  });

  it("the language switch changes every visible string on the dashboard, and <html lang> follows", async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "platform_admin", "en");
    await page.getByTestId("stat-gmv").waitFor();
    for (const lang of langs) {
      await page.getByTestId("lang-switch").selectOption(lang);
      await page.waitForFunction((wanted) => document.documentElement.lang === wanted, lang);
      await page.getByTestId("stat-gmv").waitFor();
      const text = await page.locator("body").innerText();
      const catalogue = catalogues[lang];
      const own_strings = Object.values(catalogue);
      // Every catalogue string of the other languages must be gone, unless this
      // language writes it too (a brand name, "SHA-256", a shared character).
      for (const other of langs.filter((l) => l !== lang)) {
        for (const [key, value] of Object.entries(catalogues[other])) {
          if (value.length < 3 || value.includes("{")) continue;
          if (own_strings.some((own) => own.includes(value))) continue;
          expect(text.includes(value), `${lang} page still shows ${other} "${value}" (${key})`).toBe(false);
        }
      }
      expect(text).toContain(catalogue["dashboard.title"]);
    }
    // The choice is remembered: a new page without ?lang opens in the last language.
    await page.goto(`${harness.base_url}/dashboard`);
    await page.getByTestId("stat-gmv").waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
    await page.close();
  });

  it("saves a screenshot of each main page in each language", { timeout: 600_000 }, async () => {
    const page = await freshPage(harness);
    await signIn(harness, page, "platform_admin");
    const order = await orderOf("own");
    const party = harness.logins.merchant!.party_id!;
    const pages: [string, string, string][] = [
      ["dashboard", "/dashboard", "stat-gmv"],
      ["orders", "/orders", "orders-table"],
      ["order", `/orders/${encodeURIComponent(order)}`, "split-table"],
      ["party", `/parties/${encodeURIComponent(party)}`, "entries-table"],
      ["auditor", "/auditor", "checkpoint-result"],
    ];
    for (const lang of langs) {
      for (const [name, path, ready] of pages) {
        await page.goto(`${harness.base_url}${path}?lang=${lang}`);
        await page.getByTestId(ready).first().waitFor();
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
        await shot(page, `${lang}-${name}`);
      }
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${harness.base_url}/dashboard?lang=zh-CN`);
    await page.getByTestId("stat-gmv").waitFor();
    await shot(page, "zh-CN-dashboard-phone");
    await page.close();
  });
});
