import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/service/auth/api-keys.ts";
import type { ServiceContext } from "../../src/service/context.ts";
import type { Database } from "../../src/store/database.ts";
import { newTestTenant, openTestDatabase } from "../../src/testing/db.ts";
import { startTestServer, type TestServer } from "../../src/testing/http.ts";
import { expectLedgerInvariants } from "../../src/testing/invariants.ts";
import { seedExampleMarketplace } from "../../src/testing/marketplace.ts";

// The PHP mall example (examples/php) run by Debian's php-cli against a real
// server, and its webhook receiver served by `php -S`, checked with deliveries
// signed by the Standard Webhooks specification's own library.

const php = process.env.PHP_BIN ?? "php";
const examples = resolve(import.meta.dirname, "../../examples/php");
const php_version = spawnSync(php, ["-r", "echo extension_loaded('curl') ? 'curl' : 'no-curl';"], {
  encoding: "utf8",
});
const php_ready = php_version.status === 0 && php_version.stdout === "curl";
if (!php_ready && process.env.CI)
  throw new Error("php-cli with the curl extension is required in CI (.ci/run installs it)");
if (!php_ready)
  process.stderr.write(
    "php-mall.test.ts: php-cli with curl not found; skipping (apt-get install php-cli php-curl)\n",
  );

let db: Database;
let ctx: ServiceContext;
let tenant: string;
let key: string;
let server: TestServer;
const work_dir = mkdtempSync(join(tmpdir(), "clearsplit-php-"));

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "php");
  await seedExampleMarketplace(ctx, tenant);
  ({ key } = await createApiKey(ctx, tenant, { name: "php mall", role: "platform_admin" }));
  server = await startTestServer(ctx, key);
});
afterAll(async () => {
  await server.close();
  await db.close();
  rmSync(work_dir, { recursive: true, force: true });
});

function runPhp(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(php, args, { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? ok(address.port) : fail(new Error("no port")),
      );
    });
  });
}

function signedDelivery(secret: string, body: string, at: Date = new Date()) {
  const id = `msg_${randomBytes(8).toString("hex")}`;
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

describe.skipIf(!php_ready)("PHP mall example", () => {
  it("books a couponed, referred order, replays it, completes, refunds a line and verifies a webhook", async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const body = JSON.stringify({ type: "order.booked", data: { order_id: "WST-PHP-1" } });
    const sample = join(work_dir, "delivery.json");
    writeFileSync(sample, JSON.stringify({ headers: signedDelivery(secret, body), body }));

    const run = await runPhp([join(examples, "mall.php")], {
      CLEARSPLIT_URL: server.url,
      CLEARSPLIT_KEY: key,
      CLEARSPLIT_ORDER_NO: "WST-PHP-1",
      CLEARSPLIT_SUPPLIER: "s-9",
      CLEARSPLIT_REFERRERS: "r-7,r-3",
      CLEARSPLIT_WEBHOOK_SECRET: secret,
      CLEARSPLIT_WEBHOOK_SAMPLE: sample,
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^replay +status 201, replayed true$/m);
    expect(run.stdout).toMatch(/^resent +status 200/m);
    expect(run.stdout).toMatch(/^refused +status 4\d\d, code [a-z_]+, field paid_minor/m);
    expect(run.stdout).toMatch(/^webhook +signature verified/m);

    // The order is exactly the mall's: both coupons, both referrers, every leg summing to paid.
    const view = await server.call("GET", "/v1/orders/WST-PHP-1");
    expect(view.status).toBe(200);
    const facts = JSON.stringify(view.body);
    for (const expected of ["PLAT10", "SHOP5", "r-7", "r-3", "s-9"]) expect(facts).toContain(expected);
    const legs: { party_id: string; amount_minor: number }[] = view.body.legs;
    expect(legs.reduce((sum, leg) => sum + leg.amount_minor, 0)).toBe(274200);
    expect(legs.some((leg) => leg.party_id === "r-7")).toBe(true);
    expect((await server.call("GET", "/v1/orders/WST-PHP-1-BAD")).status).toBe(404);

    // Each party's balance is its legs less what the line refund took back.
    const refund_legs: { party_id: string; amount_minor: number }[] = view.body.refunds.flatMap(
      (refund: { reversal: { legs: { party_id: string; amount_minor: number }[] } }) => refund.reversal.legs,
    );
    expect(view.body.refunds).toHaveLength(1);
    const expected_by_party = new Map<string, number>();
    for (const leg of legs)
      expected_by_party.set(leg.party_id, (expected_by_party.get(leg.party_id) ?? 0) + leg.amount_minor);
    for (const leg of refund_legs)
      expected_by_party.set(
        leg.party_id,
        (expected_by_party.get(leg.party_id) ?? 0) - Math.abs(leg.amount_minor),
      );
    for (const party_id of ["m-1001", "s-9", "r-7"]) {
      const balances = await server.call("GET", `/v1/parties/${party_id}/balances`);
      expect(balances.status).toBe(200);
      const cny = balances.body.balances.find((b: { currency: string }) => b.currency === "CNY");
      const total = Number(cny.held_minor) + Number(cny.available_minor) - Number(cny.debt_minor ?? 0);
      expect(total, party_id).toBe(expected_by_party.get(party_id));
    }
    await expectLedgerInvariants(db, tenant);
  });

  it("serves a webhook receiver that accepts signed deliveries and rejects forged or replayed ones", async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const port = await freePort();
    const receiver: ChildProcess = spawn(php, ["-S", `127.0.0.1:${port}`, join(examples, "webhook.php")], {
      env: { ...process.env, CLEARSPLIT_WEBHOOK_SECRET: secret },
      stdio: "ignore",
    });
    try {
      const url = `http://127.0.0.1:${port}/`;
      const post = async (headers: Record<string, string>, body: string) =>
        (
          await fetch(url, {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body,
          })
        ).status;
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await fetch(url);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((ok) => setTimeout(ok, 100));
        }
      }
      const body = JSON.stringify({ type: "payout.confirmed", data: { payout_id: "p-1" } });
      expect(await post(signedDelivery(secret, body), body)).toBe(204);
      expect(await post(signedDelivery(secret, body), `${body} `)).toBe(400);
      const other = `whsec_${randomBytes(24).toString("base64")}`;
      expect(await post(signedDelivery(other, body), body)).toBe(400);
      const stale = new Date(Date.now() - 3_600_000);
      expect(await post(signedDelivery(secret, body, stale), body)).toBe(400);
      // During a secret rotation several signatures travel; one valid is enough.
      const rotated = signedDelivery(secret, body);
      const old = signedDelivery(other, body);
      rotated["webhook-signature"] = `${old["webhook-signature"]} ${rotated["webhook-signature"]}`;
      // The other signature is over another id; it simply does not match.
      expect(await post(rotated, body)).toBe(204);
    } finally {
      receiver.kill("SIGKILL");
    }
  });
});
