import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { verifyPayoutFileJson } from "../../core/settlement/payout-file.ts";
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { bookOrders } from "../../service/orders/book.ts";
import { completeOrder, releaseDue } from "../../service/orders/order-lifecycle.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";

// Settlement and reconciliation through real HTTP: profiles, a run, its payout
// file, results, pages, status, and a bill upload.

let db: Database;
let server: TestServer;
let tenant: string;
let merchant_key: string;
let ctx: ServiceContext;
const clock = testClock("2026-11-25T10:00:00Z");
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: clock.now };
  tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant, 60_000);
  await bookOrders(ctx, tenant, [issue_order]);
  await completeOrder(ctx, tenant, issue_order.id);
  clock.advance(61_000);
  await releaseDue(ctx, tenant);
  clock.advance(86_400_000);
  const { key } = await createApiKey(ctx, tenant, { name: "finance", role: "finance" });
  finance_key = key;
  merchant_key = (await createApiKey(ctx, tenant, { name: "m", role: "merchant", party_id: "m-2002" })).key;
  server = await startTestServer(ctx, key);
}, 120_000);
afterAll(async () => {
  await server.close();
  await db.close();
});

describe("settlement over HTTP", () => {
  it("patches a profile with versions, runs settlement, serves a checked payout file, confirms and fails", async () => {
    const bad = await server.call("PATCH", "/v1/parties/m-1001", {
      body: { settlement: { cycle: { type: "weekly", weekday: 9 } } },
    });
    expect(bad.status).toBe(400);
    const patched = await server.call("PATCH", "/v1/parties/m-1001", {
      body: {
        settlement: {
          cycle: { type: "daily", lag_days: 1 },
          minimum_payout_minor: 100,
          payout_account_ref: "6222020200001234567",
        },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(2);
    const stale = await server.call("PATCH", "/v1/parties/m-1001", { body: { name: "Renamed", version: 1 } });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe("party_version_conflict");
    // A new profile takes effect from the next cycle: run on the next day.
    clock.advance(86_400_000);
    const future = await server.call("POST", "/v1/settlements/runs", {
      body: { as_of: "2030-01-01T00:00:00Z" },
    });
    expect(future.status).toBe(422);

    const run = await server.call("POST", "/v1/settlements/runs", { body: {} });
    expect(run.status).toBe(201);
    const merchant = run.body.paid.find((item: { party_id: string }) => item.party_id === "m-1001");
    expect(merchant.amount_minor).toBeGreaterThan(0);
    const again = await server.call("POST", "/v1/settlements/runs", { body: {} });
    expect(again.body.paid).toEqual([]);
    expect(again.body.replayed).toHaveLength(run.body.paid.length);

    const json = await server.call("GET", `/v1/settlements/runs/${run.body.run_id}/payout-file?format=json`);
    expect(json.status).toBe(200);
    expect(verifyPayoutFileJson(json.body)).toBe(true);
    expect(verifyPayoutFileJson({ ...json.body, control: { ...json.body.control, transfers: 99 } })).toBe(
      false,
    );
    const transfer = json.body.transfers.find(
      (item: { payout_id: string }) => item.payout_id === merchant.payout_id,
    );
    expect(transfer.beneficiary.account_ref).toBe("6222020200001234567");
    expect(transfer.amount_minor).toBe(merchant.amount_minor);
    const csv = await fetch(`${server.url}/v1/settlements/runs/${run.body.run_id}/payout-file?format=csv`, {
      headers: { authorization: `Bearer ${server_key()}` },
    });
    const csv_text = await csv.text();
    expect(csv_text.split("\r\n")[0]).toBe(
      "reference,payout_id,party_id,party_name,payout_account_ref,currency,amount,amount_minor,period_start,period_end",
    );
    const { createHash } = await import("node:crypto");
    expect(csv.headers.get("repr-digest")).toBe(
      `sha-256=:${createHash("sha256").update(csv_text).digest("base64")}:`,
    );

    // The merchant sees its own payout only, with the account masked.
    const mine = await server.call("GET", "/v1/payouts", { key: merchant_key });
    expect(mine.body.items.every((item: { party_id: string }) => item.party_id === "m-2002")).toBe(true);
    const foreign = await server.call("GET", `/v1/payouts/${merchant.payout_id}`, { key: merchant_key });
    expect(foreign.status).toBe(404);

    const page1 = await server.call("GET", "/v1/payouts?limit=1");
    expect(page1.body.items).toHaveLength(1);
    const page2 = await server.call("GET", `/v1/payouts?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items[0].id > page1.body.items[0].id).toBe(true);
    const masked = await server.call("GET", `/v1/payouts/${merchant.payout_id}`);
    expect(masked.body.payout_account_ref).toBe("6222020200001234567");

    const status = await server.call("GET", `/v1/orders/${issue_order.id}/settlement`);
    const m1001 = status.body.parties.find((party: { party_id: string }) => party.party_id === "m-1001");
    expect(m1001.state).toBe("in_transit");
    expect(m1001.payout.id).toBe(merchant.payout_id);

    const confirmed = await server.call("POST", `/v1/payouts/${merchant.payout_id}/confirm`, {
      body: { provider_reference: "BANK-1" },
    });
    expect(confirmed.body.state).toBe("paid_out");
    const refused = await server.call("POST", `/v1/payouts/${merchant.payout_id}/fail`, {
      body: { reason: "late" },
    });
    expect(refused.status).toBe(409);
    const other = run.body.paid.find((item: { party_id: string }) => item.party_id !== "m-1001");
    const failed = await server.call("POST", `/v1/payouts/${other.payout_id}/fail`, {
      body: { reason: "account closed" },
    });
    expect(failed.body).toMatchObject({ state: "failed", failure_reason: "account closed" });
    const after = await server.call("GET", `/v1/orders/${issue_order.id}/settlement`);
    expect(after.body.parties.find((party: { party_id: string }) => party.party_id === "m-1001").state).toBe(
      "paid_out",
    );
    const party = await server.call("GET", "/v1/parties/m-1001/settlement", { key: merchant_key });
    expect(party.status).toBe(404);
    await expectLedgerInvariants(db, tenant);
  });

  it("uploads a bill: dry run, import, replay, and refuses another provider's file", async () => {
    const body = readFileSync(join(import.meta.dirname, "../../../test/bills/wechat-v3.csv"));
    const upload = (query: string, payload: Buffer) =>
      fetch(`${server.url}/v1/reconciliation/imports?${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${server_key()}`, "content-type": "text/csv" },
        body: new Uint8Array(payload),
      });
    const dry = await upload("provider=wechat&dry_run=true", body);
    expect(dry.status).toBe(200);
    expect((await dry.json()).totals.CNY.fees).toBe("11.052");
    const first = await upload("provider=wechat&tolerance_minor=1", body);
    expect(first.status).toBe(201);
    const result = await first.json();
    // The order matches within one fen of fee; the other order and the refund are not in this ledger.
    expect(result.counts).toMatchObject({ matched: 1, missing_in_ledger: 2 });
    const replay = await upload("provider=wechat&tolerance_minor=1", body);
    expect(replay.status).toBe(200);
    expect((await replay.json()).import_id).toBe(result.import_id);
    // A client that sends an Idempotency-Key with the streamed file (as the typed
    // client does on every write) used to get a 500: the key layer hashed the stream.
    const keyed = await fetch(`${server.url}/v1/reconciliation/imports?provider=wechat&tolerance_minor=1`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server_key()}`,
        "content-type": "text/csv",
        "idempotency-key": "bill-upload-1",
      },
      body: new Uint8Array(body),
    });
    expect(keyed.status).toBe(200);
    expect((await keyed.json()).import_id).toBe(result.import_id);
    const read = await server.call("GET", `/v1/reconciliation/imports/${result.import_id}`);
    expect(read.body.items.map((item: { status: string }) => item.status)).toEqual([
      "missing_in_ledger",
      "missing_in_ledger",
    ]);
    // The result file: every item, matched ones too, with its digest.
    const file = await fetch(`${server.url}/v1/reconciliation/imports/${result.import_id}/result.csv`, {
      headers: { authorization: `Bearer ${server_key()}` },
    });
    expect(file.status).toBe(200);
    expect(file.headers.get("content-disposition")).toContain(`reconciliation-${result.import_id}.csv`);
    const text = await file.text();
    const lines = text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "seq,status,kind,bill_line,provider_reference,order_id,refund_id,payout_id,currency,bill_amount,ledger_amount,ledger_amount_minor,bill_fee,ledger_fee_minor,match_group,reason",
    );
    expect(lines.slice(1).map((line) => line.split(",")[1])).toEqual([
      "matched",
      "missing_in_ledger",
      "missing_in_ledger",
    ]);
    expect(lines[1]).toContain(",CNY,2742.00,2742.00,274200,16.452,1645,");
    const { createHash: hash } = await import("node:crypto");
    expect(file.headers.get("repr-digest")).toBe(`sha-256=:${hash("sha256").update(text).digest("base64")}:`);
    const missing = await server.call(
      "GET",
      "/v1/reconciliation/imports/00000000-0000-4000-8000-000000000000/result.csv",
    );
    expect(missing.status).toBe(404);
    const wrong = await upload("provider=alipay&dry_run=true", body);
    expect(wrong.status).toBe(422);
    expect((await wrong.json()).code).toBe("bill_unusable");
    const relabelled = await upload("provider=alipay", body);
    expect(relabelled.status).toBe(409);
    expect((await relabelled.json()).code).toBe("bill_provider_conflict");
  });

  it("lists settlement runs and bill imports newest first, in cursor pages, to finance only", async () => {
    const second = await server.call("POST", "/v1/settlements/runs", { body: {} });
    expect(second.status).toBe(201);
    const runs = await server.call("GET", "/v1/settlements/runs?limit=1");
    expect(runs.status).toBe(200);
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0]).toMatchObject({ id: second.body.run_id, status: "finished" });
    expect(runs.body.items[0].summary.run_id).toBe(second.body.run_id);
    const older = await server.call("GET", `/v1/settlements/runs?limit=1&cursor=${runs.body.next_cursor}`);
    expect(older.body.items[0].id < second.body.run_id).toBe(true);
    const imports = await server.call("GET", "/v1/reconciliation/imports");
    expect(imports.body.items[0]).toMatchObject({ provider: "wechat", counts: { matched: 1 } });
    expect(imports.body.next_cursor).toBeNull();
    for (const bad of ["limit=0", "limit=101", "cursor=nope"]) {
      const answer = await server.call("GET", `/v1/settlements/runs?${bad}`);
      expect(answer.status, bad).toBe(400);
    }
    const merchant = await server.call("GET", "/v1/settlements/runs", { key: merchant_key });
    expect(merchant.status).toBe(403);
  });
});

function server_key(): string {
  return finance_key;
}
let finance_key = "";
