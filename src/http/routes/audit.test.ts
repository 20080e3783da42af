import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import self_referral_order from "../../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import { run as verifyCli } from "../../cli/verify.ts";
import { createApiKey } from "../../service/auth/api-keys.ts";
import { createUser } from "../../service/auth/users.ts";
import type { ServiceContext } from "../../service/context.ts";
import { LogKeyStore, logVkey } from "../../service/tlog/signing-keys.ts";
import { sequenceAll } from "../../service/tlog/testing.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { buildApp } from "../app.ts";

// Through the real HTTP edge with real credentials: one user's two sessions
// and the key issued for them are one person to the four-eyes rule; an admin
// key issued to no user cannot take part; the trail's bundles pass
// `clearsplit verify bundle`; a merchant disputes with its proof bundle and
// sees only its own disputes.

let db: Database;
let app: FastifyInstance;
let ctx: ServiceContext;
let tenant: string;
const keys: Record<string, string> = {};
const password = "correct horse battery staple";
let alice_id: string;

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  app = await buildApp({ ctx });
  tenant = await newTestTenant(ctx, "audit-http");
  await seedExampleMarketplace(ctx, tenant);
  for (const [name, role, party_id] of [
    ["admin", "platform_admin", null],
    ["integration", "integration", null],
    ["m2002", "merchant", "m-2002"],
    ["m1001", "merchant", "m-1001"],
  ] as const)
    keys[name] = (await createApiKey(ctx, tenant, { name, role, party_id })).key;
  const audit = { actor: "test", ip: null };
  alice_id = (
    await createUser(ctx, tenant, { role: "reviewer", email: "alice@example.com", password }, audit)
  ).id;
  await createUser(ctx, tenant, { role: "reviewer", email: "bob@example.com", password }, audit);
});

afterAll(async () => {
  await app.close();
  await db.close();
});

type Caller = { key: string } | { session: { cookie: string; csrf: string } };

async function login(email: string): Promise<Caller> {
  const response = await app.inject({
    method: "POST",
    url: "/v1/auth/login",
    payload: { tenant_id: tenant, login: email, password },
  });
  expect(response.statusCode).toBe(200);
  const cookies = Object.fromEntries(
    (response.headers["set-cookie"] as string[]).map(
      (line) => line.split(";")[0]!.split("=") as [string, string],
    ),
  );
  return {
    session: {
      cookie: `cs_session=${cookies.cs_session}; cs_csrf=${cookies.cs_csrf}`,
      csrf: cookies.cs_csrf!,
    },
  };
}

async function call(caller: Caller, method: "GET" | "POST", url: string, payload?: object) {
  const headers: Record<string, string> =
    "key" in caller
      ? { authorization: `Bearer ${caller.key}` }
      : { cookie: caller.session.cookie, "x-csrf-token": caller.session.csrf };
  const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: response.statusCode, body: response.json() };
}

describe("audit over HTTP", () => {
  it("four eyes counts people across sessions and keys; the trail verifies with clearsplit verify", async () => {
    const admin = { key: keys.admin! };
    const draft = await call(admin, "POST", "/v1/audit/configs", {
      name: "http",
      body: { four_eyes_minor: 10_000, rules: [{ id: "self_referral" }] },
    });
    expect(draft.status).toBe(201);
    expect((await call(admin, "POST", `/v1/audit/configs/${draft.body.id}/publish`)).status).toBe(200);
    const alice_key = await call(admin, "POST", "/v1/api-keys", { name: "alice's", user_id: alice_id });
    expect(alice_key.status).toBe(201);
    expect(alice_key.body.api_key).toMatchObject({ role: "reviewer", user_id: alice_id });
    expect((await call({ key: keys.integration! }, "POST", "/v1/orders", self_referral_order)).status).toBe(
      201,
    );

    const alice_1 = await login("alice@example.com");
    const alice_2 = await login("alice@example.com");
    const bob = await login("bob@example.com");
    const queue = await call(alice_1, "GET", "/v1/audit/cases?state=any_open&rule_id=self_referral");
    expect(queue.body.items).toHaveLength(1);
    const case_id = queue.body.items[0].id;
    expect((await call(admin, "GET", `/v1/orders/${self_referral_order.id}`)).body.blocked_by_case).toEqual({
      case_ids: [case_id],
    });
    const decide = (caller: Caller, decision = "approve") =>
      call(caller, "POST", `/v1/audit/cases/${case_id}/decisions`, { decision, reason: `${decision} it` });
    const first = await decide(alice_1);
    expect(first.status).toBe(200);
    expect(first.body.case.state).toBe("awaiting_second_approval");
    for (const same of [alice_2, { key: alice_key.body.key }]) {
      const again = await decide(same);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe("four_eyes_same_person");
    }
    const orphan = await decide(admin);
    expect([orphan.status, orphan.body.code]).toEqual([403, "four_eyes_person_required"]);
    const second = await decide(bob);
    expect([second.status, second.body.case.state]).toEqual([200, "approved"]);
    expect(
      (await call(admin, "GET", `/v1/orders/${self_referral_order.id}`)).body.blocked_by_case,
    ).toBeNull();
    const closed = await decide(bob);
    expect([closed.status, closed.body.code]).toEqual([409, "case_closed"]);

    await sequenceAll(ctx, tenant, new LogKeyStore({ host: "audit-http.test", secret: "s" }));
    const trail = await call(alice_1, "GET", `/v1/audit/cases/${case_id}/trail`);
    expect(trail.body.items.map((item: { action: { action: string } }) => item.action.action)).toEqual([
      "open",
      "hit",
      "decide",
      "second_approval",
    ]);
    const dir = await mkdtemp(join(tmpdir(), "trail-"));
    const vkey = (await logVkey(db, tenant))!;
    for (const [index, item] of trail.body.items.entries()) {
      const file = join(dir, `${index}.json`);
      await writeFile(file, JSON.stringify(item.bundle));
      expect(await verifyCli(["bundle", file, "--log-key", vkey])).toBe(0);
    }
    const forged = {
      ...trail.body.items[3].bundle,
      record: { ...trail.body.items[3].bundle.record, person: "user:x" },
    };
    await writeFile(join(dir, "forged.json"), JSON.stringify(forged));
    expect(await verifyCli(["bundle", join(dir, "forged.json"), "--log-key", vkey])).toBe(1);
  }, 60_000);

  it("refuses bad input with a problem and no change", async () => {
    const admin = { key: keys.admin! };
    const unknown = await call(admin, "GET", "/v1/audit/cases/0190a000-0000-7000-8000-000000000000");
    expect([unknown.status, unknown.body.code]).toEqual([404, "case_not_found"]);
    const long = await call(admin, "POST", "/v1/audit/cases/0190a000-0000-7000-8000-000000000000/comments", {
      body: "x".repeat(5_000),
    });
    expect([long.status, long.body.code]).toEqual([400, "audit_comment_invalid"]);
    const rule = await call(admin, "POST", "/v1/audit/configs", {
      name: "bad",
      body: { four_eyes_minor: 1, rules: [{ id: "no_such_rule" }] },
    });
    expect([rule.status, rule.body.code, rule.body.field]).toEqual([
      422,
      "audit_rule_unknown",
      "rules[0].id",
    ]);
  });

  it("a merchant disputes with its proof bundle and sees only its own disputes", async () => {
    const mine = { key: keys.m2002! };
    const order = await call({ key: keys.admin! }, "GET", `/v1/orders/${self_referral_order.id}`);
    const proof = await call(mine, "GET", `/v1/records/${order.body.transaction_id}/proof`);
    expect(proof.status).toBe(200);
    const payload = {
      order_id: self_referral_order.id,
      record_id: order.body.transaction_id,
      reason: "my electronics commission is 4.5%, not 6%",
      bundle: proof.body,
    };
    const tampered = await call(mine, "POST", "/v1/disputes", {
      ...payload,
      bundle: { ...proof.body, leaf_index: 0 },
    });
    expect([tampered.status, tampered.body.code]).toEqual([422, "bundle_invalid"]);
    const opened = await call(mine, "POST", "/v1/disputes", payload);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      bundle_verified: true,
      party_id: "m-2002",
      case: { kind: "dispute", state: "open" },
    });
    expect((await call(mine, "GET", "/v1/disputes")).body.items.map((d: { id: string }) => d.id)).toEqual([
      opened.body.id,
    ]);
    expect((await call({ key: keys.m1001! }, "GET", "/v1/disputes")).body.items).toEqual([]);
    expect((await call({ key: keys.m1001! }, "GET", `/v1/disputes/${opened.body.case_id}/case`)).status).toBe(
      404,
    );
    const seen = await call(mine, "GET", `/v1/disputes/${opened.body.case_id}/case`);
    expect(seen.body.trail.map((entry: { action: { action: string } }) => entry.action.action)).toEqual([
      "dispute",
    ]);
    const queue = await call({ key: keys.admin! }, "GET", "/v1/audit/cases?kind=dispute");
    expect(queue.body.items.map((c: { id: string }) => c.id)).toEqual([opened.body.case_id]);
  }, 60_000);
});
