import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import self_referral_order from "../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import policy_json from "../../examples/policies/b2b2c.json" with { type: "json" };
import { type Role, roles } from "../core/auth/roles.ts";
import { newId } from "../core/ids.ts";
import { type Actor, actorOfPrincipal } from "../service/audit/actor.ts";
import { flagOrder } from "../service/audit/cases.ts";
import { createAuditConfigDraft, publishAuditConfig } from "../service/audit/configs.ts";
import { openDispute } from "../service/audit/disputes.ts";
import { raiseAuditHit } from "../service/audit/hits.ts";
import { createApiKey } from "../service/auth/api-keys.ts";
import { createUser } from "../service/auth/users.ts";
import type { ServiceContext } from "../service/context.ts";
import { sequenceEventsOnce } from "../service/events/event-sequencer.ts";
import { createParty } from "../service/ledger/accounts.ts";
import { createEndpoint } from "../service/notifications/endpoints.ts";
import { sendTestNotification } from "../service/notifications/test-notification.ts";
import { bookOrders } from "../service/orders/book.ts";
import { releaseOrder } from "../service/orders/order-lifecycle.ts";
import { createPolicyDraft, publishPolicy } from "../service/policies.ts";
import { importBill } from "../service/reconcile/import.ts";
import { createSavedReport } from "../service/reports/saved.ts";
import { updateParty } from "../service/settlement/party-profile.ts";
import { runSettlement } from "../service/settlement/settlement-run.ts";
import { LogKeyStore } from "../service/tlog/signing-keys.ts";
import { sequenceAll } from "../service/tlog/testing.ts";
import type { Database } from "../store/database.ts";
import { markersOf, type TenantFixture, tenantFixture } from "../testing/auth-fixtures.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { buildApp } from "./app.ts";

// The isolation matrix: every route of the OpenAPI document × every role (and
// no credential) × the caller's own object versus one it must not see. Each
// route needs a rule below; a route without one fails the test, so a new
// route cannot ship without deciding who may call it. Every response body is
// searched for the other party's and the other tenant's data.

type Caller = Role | "anonymous";
type Target = "own" | "foreign";

interface World {
  ctx: ServiceContext;
  tenant: string;
  keys: Record<Role, string>;
  /** The merchant, supplier and referrer (the party role) the party-scoped keys belong to, and their order. */
  own: { merchant: string; supplier: string; party: string; order_id: string };
  /** Same tenant, other merchant: what a party-scoped caller must never see. */
  other: { merchant: string; supplier: string; order_id: string };
  policy: { published_hash: string; draft_id: string; foreign_id: string };
  /** Log records: one concerning the own merchant and supplier, one only the other merchant's side. */
  records: { own: string; other: string; foreign_tenant: string };
  /** An inbox item of a user of the other merchant. */
  inbox_foreign: string;
  log_size: bigint;
  second: TenantFixture;
  /** Webhook endpoints: the tenant's, each own party's, the other merchant's, the second tenant's; and a delivery of each. */
  endpoints: Record<
    "tenant" | "merchant" | "supplier" | "party" | "other" | "foreign",
    { id: string; delivery_id: string }
  >;
  /** Payouts of the own merchant and supplier and of the other merchant, and the run that made them. */
  payouts: { run_id: string; merchant: string; supplier: string; party: string; other: string };
  reconciliation_id: string;
  audit: {
    config_draft_id: string;
    foreign_config_id: string;
    foreign_case_id: string;
    /** Dispute cases: the own merchant's, the own supplier's, and the other merchant's. */
    disputes: { merchant: string; supplier: string; party: string; other: string };
  };
  /** Saved reports: shared by the platform (with one scheduled run), private to the other merchant, another tenant's. */
  saved: { shared: string; run: string; other_private: string; foreign: string };
}

interface Rule {
  /** Roles that may call the route; `public` needs no credential. */
  allowed: readonly Role[] | "public";
  /** Expected statuses for an allowed caller on its own object. */
  ok: readonly number[];
  /** Whether the route names an object that can be foreign (expects 404 for it). */
  has_object: boolean;
  stream?: boolean;
  build(world: World, caller: Caller, target: Target): Promise<Omit<InjectOptions, "method">>;
}

const everyone = roles;
const platform = ["platform_admin", "finance", "reviewer", "auditor", "integration"] as const;
const party_scoped = new Set<Caller>(["merchant", "supplier", "party"]);

/** Picks the caller's own one of a merchant's, a supplier's and a party's objects. */
function ownOf<T>(caller: Caller, objects: { merchant: T; supplier: T; party: T }): T {
  if (caller === "supplier") return objects.supplier;
  if (caller === "party") return objects.party;
  return objects.merchant;
}

/** The party a caller's "own" party-route call names, and the one it must not see. */
function partyFor(world: World, caller: Caller, target: Target): string {
  if (target === "own") return ownOf(caller, world.own);
  return party_scoped.has(caller) ? world.other.merchant : world.second.merchant_a.party_id;
}

function orderFor(world: World, caller: Caller, target: Target): string {
  if (target === "own") return world.own.order_id;
  return party_scoped.has(caller) ? world.other.order_id : world.second.merchant_a.order_ids[0]!;
}

function payoutFor(world: World, caller: Caller, target: Target): string {
  if (target === "own") return ownOf(caller, world.payouts);
  return party_scoped.has(caller) ? world.payouts.other : newId();
}

async function freshOrder(world: World): Promise<string> {
  const id = `ISO-${newId()}`;
  const [result] = await bookOrders(world.ctx, world.tenant, [{ ...issue_order, id }]);
  expect(result?.status).toBe("created");
  return id;
}

const get = (url: string) => async () => ({ url });

/**
 * The own order: the self-referral example with a level-2 referrer of its own,
 * r-own, which the party-role key belongs to (issue 12: every party kind can
 * see its own shares, and only those). r-own is in no other order.
 */
const own_order = { ...self_referral_order, referrers: ["r-7", "r-own"] };

const endpoint_roles = ["platform_admin", "integration", "merchant", "supplier", "party"] as const;

/** The endpoint a caller's call names: its own (party's or tenant's), or one it must not see. */
function endpointFor(world: World, caller: Caller, target: Target): { id: string; delivery_id: string } {
  if (target === "foreign") return party_scoped.has(caller) ? world.endpoints.other : world.endpoints.foreign;
  if (caller === "merchant") return world.endpoints.merchant;
  if (caller === "supplier") return world.endpoints.supplier;
  if (caller === "party") return world.endpoints.party;
  return world.endpoints.tenant;
}

async function freshEndpoint(world: World, caller: Caller): Promise<string> {
  const party_id =
    caller === "merchant" || caller === "supplier" || caller === "party" ? ownOf(caller, world.own) : null;
  const role = caller === "anonymous" ? "platform_admin" : caller;
  const endpoint = await createEndpoint(
    world.ctx,
    { tenant_id: world.tenant, role, party_id, actor: "key:matrix" },
    { url: "https://93.184.215.14/fresh", event_types: ["*"] },
  );
  return endpoint.id;
}

const flagger: Actor = { actor: "user:matrix-flagger", person: "user:matrix-flagger", role: "finance" };

/** A fresh open case on a fresh order of the tenant, for routes that change a case. */
async function freshCase(world: World): Promise<string> {
  const order_id = await freshOrder(world);
  return (await flagOrder(world.ctx, world.tenant, { order_id, reason: "matrix" }, flagger)).id;
}

/** The case a caller names: a fresh own one, or one of the other tenant. */
async function caseFor(world: World, target: Target): Promise<string> {
  return target === "own" ? freshCase(world) : world.audit.foreign_case_id;
}

function disputeFor(world: World, caller: Caller, target: Target): string {
  if (target === "foreign")
    return party_scoped.has(caller) ? world.audit.disputes.other : world.audit.foreign_case_id;
  return ownOf(caller, world.audit.disputes);
}

const audit_readers = ["platform_admin", "finance", "reviewer", "auditor"] as const;
const audit_deciders = ["platform_admin", "finance", "reviewer"] as const;

const report_roles = [
  "platform_admin",
  "finance",
  "reviewer",
  "auditor",
  "merchant",
  "supplier",
  "party",
] as const;
const saved_definition = {
  name: "matrix legs",
  shared: true,
  definition: {
    dataset: "legs",
    dimensions: ["party_id"],
    measures: ["amount_minor"],
    period: { from: "2026-11-01", to: "2026-12-01" },
  },
};

function savedFor(world: World, caller: Caller, target: Target): string {
  if (target === "own") return world.saved.shared;
  return party_scoped.has(caller) ? world.saved.other_private : world.saved.foreign;
}

const rules: Record<string, Rule> = {
  "GET /healthz": { allowed: "public", ok: [200], has_object: false, build: get("/healthz") },
  "GET /readyz": { allowed: "public", ok: [200], has_object: false, build: get("/readyz") },
  "GET /metrics": { allowed: "public", ok: [200], has_object: false, build: get("/metrics") },
  "GET /problems": { allowed: "public", ok: [200], has_object: false, build: get("/problems") },
  "GET /problems/{code}": {
    allowed: "public",
    ok: [200],
    has_object: false,
    build: get("/problems/order_not_found"),
  },
  "POST /v1/auth/login": {
    allowed: "public",
    ok: [401],
    has_object: false,
    build: async (world) => ({
      url: "/v1/auth/login",
      remoteAddress: `10.${Math.floor(Math.random() * 250)}.0.1`,
      payload: {
        tenant_id: world.tenant,
        login: `nobody-${newId()}@example.com`,
        password: "wrong password",
      },
    }),
  },
  "POST /v1/auth/logout": { allowed: everyone, ok: [204], has_object: false, build: get("/v1/auth/logout") },
  "GET /v1/auth/me": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/auth/me") },
  "GET /v1/security-events": {
    allowed: ["platform_admin", "auditor"],
    ok: [200],
    has_object: false,
    build: get("/v1/security-events"),
  },
  "POST /v1/api-keys": {
    allowed: ["platform_admin"],
    ok: [201],
    has_object: false,
    build: async () => ({ url: "/v1/api-keys", payload: { name: "matrix", role: "auditor" } }),
  },
  "GET /v1/api-keys": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: false,
    build: get("/v1/api-keys"),
  },
  "DELETE /v1/api-keys/{id}": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => {
      const tenant = target === "own" ? world.tenant : world.second.tenant_id;
      const { api_key } = await createApiKey(world.ctx, tenant, { name: "victim", role: "auditor" });
      return { url: `/v1/api-keys/${api_key.id}` };
    },
  },
  "POST /v1/users": {
    allowed: ["platform_admin"],
    ok: [201],
    has_object: false,
    build: async () => ({
      url: "/v1/users",
      payload: { login: `matrix-${newId()}@example.com`, password: "correct horse battery", role: "auditor" },
    }),
  },
  "GET /v1/users": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: false,
    build: get("/v1/users"),
  },
  "PATCH /v1/users/{id}": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => {
      const tenant = target === "own" ? world.tenant : world.second.tenant_id;
      const user = await createUser(
        world.ctx,
        tenant,
        { role: "auditor", email: `victim-${newId()}@example.com`, password: "correct horse battery" },
        { actor: "test", ip: null },
      );
      return { url: `/v1/users/${user.id}`, payload: { role: "finance" } };
    },
  },
  "GET /v1/events/stream": {
    allowed: everyone,
    ok: [200],
    has_object: false,
    stream: true,
    build: get("/v1/events/stream?last_event_id=0"),
  },
  "POST /v1/parties": {
    allowed: ["platform_admin", "integration"],
    ok: [201],
    has_object: false,
    build: async () => ({
      url: "/v1/parties",
      payload: { id: `p-${newId()}`, kind: "merchant", name: "new" },
    }),
  },
  "GET /v1/parties": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/parties") },
  "GET /v1/parties/{id}": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({ url: `/v1/parties/${partyFor(world, caller, target)}` }),
  },
  "GET /v1/parties/{id}/balances": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/parties/${partyFor(world, caller, target)}/balances`,
    }),
  },
  "GET /v1/parties/{id}/entries": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/parties/${partyFor(world, caller, target)}/entries`,
    }),
  },
  "POST /v1/policies": {
    allowed: ["platform_admin"],
    ok: [201],
    has_object: false,
    build: async () => ({ url: "/v1/policies", payload: { name: "matrix", body: policy_json } }),
  },
  "POST /v1/policies/{id}/publish": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => {
      if (target === "foreign") return { url: `/v1/policies/${world.policy.foreign_id}/publish` };
      const draft = await createPolicyDraft(world.ctx, world.tenant, {
        name: "draft",
        body: { ...policy_json, version: 1000 + Math.floor(Math.random() * 1e9) },
      });
      return { url: `/v1/policies/${draft.id}/publish` };
    },
  },
  "GET /v1/policies": { allowed: platform, ok: [200], has_object: false, build: get("/v1/policies") },
  "GET /v1/policies/{ref}": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    // A party-scoped caller may read published policies only: a draft is its foreign object.
    build: async (world, caller, target) => ({
      url: `/v1/policies/${
        target === "own"
          ? world.policy.published_hash
          : party_scoped.has(caller)
            ? world.policy.draft_id
            : world.policy.foreign_id
      }`,
    }),
  },
  "PUT /v1/policy-assignments": {
    allowed: ["platform_admin"],
    ok: [200],
    has_object: false,
    build: async (world) => ({
      url: "/v1/policy-assignments",
      payload: {
        scope: "category",
        scope_value: `cat-${newId()}`,
        policy_hash: world.policy.published_hash,
        effective_from: "2020-01-01T00:00:00Z",
      },
    }),
  },
  "GET /v1/policy-assignments": {
    allowed: platform,
    ok: [200],
    has_object: false,
    build: get("/v1/policy-assignments"),
  },
  "POST /v1/orders": {
    allowed: ["platform_admin", "integration"],
    ok: [201],
    has_object: false,
    build: async () => ({ url: "/v1/orders", payload: { ...issue_order, id: `ISO-${newId()}` } }),
  },
  "POST /v1/orders/batch": {
    allowed: ["platform_admin", "integration"],
    ok: [200],
    has_object: false,
    build: async () => ({
      url: "/v1/orders/batch",
      payload: { orders: [{ ...issue_order, id: `ISO-${newId()}` }] },
    }),
  },
  "POST /v1/orders/{id}/complete": {
    allowed: ["platform_admin", "integration"],
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/orders/${target === "own" ? await freshOrder(world) : orderFor(world, caller, target)}/complete`,
    }),
  },
  "POST /v1/orders/{id}/release": {
    allowed: ["platform_admin", "finance"],
    // A fresh order is still inside its return window: the role may call, the state refuses.
    ok: [200, 409],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/orders/${target === "own" ? await freshOrder(world) : orderFor(world, caller, target)}/release`,
    }),
  },
  "POST /v1/orders/{id}/refunds": {
    allowed: ["platform_admin", "integration", "finance"],
    ok: [201],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/orders/${target === "own" ? await freshOrder(world) : orderFor(world, caller, target)}/refunds`,
      payload: { refund_id: `RF-${newId()}`, amount_minor: 100 },
    }),
  },
  "POST /v1/orders/{id}/chargebacks": {
    allowed: ["platform_admin", "integration", "finance"],
    ok: [201],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/orders/${target === "own" ? await freshOrder(world) : orderFor(world, caller, target)}/chargebacks`,
      payload: { refund_id: `CB-${newId()}`, amount_minor: 100 },
    }),
  },
  "GET /v1/orders": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/orders") },
  "GET /v1/orders/{id}": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({ url: `/v1/orders/${orderFor(world, caller, target)}` }),
  },
  "GET /v1/ledger/trial-balance": {
    allowed: ["platform_admin", "finance", "auditor"],
    ok: [200],
    has_object: false,
    build: get("/v1/ledger/trial-balance"),
  },
  "GET /v1/stats/overview": {
    allowed: ["platform_admin", "finance", "reviewer", "auditor"],
    ok: [200],
    has_object: false,
    build: get("/v1/stats/overview?days=7"),
  },
  "GET /log/{tenant}/checkpoint": {
    allowed: "public",
    ok: [200],
    has_object: false,
    build: async (world) => ({ url: `/log/${world.tenant}/checkpoint` }),
  },
  "GET /log/{tenant}/vkey": {
    allowed: "public",
    ok: [200],
    has_object: false,
    build: async (world) => ({ url: `/log/${world.tenant}/vkey` }),
  },
  "GET /log/{tenant}/tile/{path}": {
    allowed: "public",
    ok: [200],
    has_object: false,
    build: async (world) => ({ url: `/log/${world.tenant}/tile/0/000.p/${world.log_size}` }),
  },
  "GET /v1/records/{id}/proof": {
    allowed: ["platform_admin", "finance", "auditor", "merchant", "supplier", "party"],
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/records/${
        target === "own"
          ? world.records.own
          : party_scoped.has(caller)
            ? world.records.other
            : world.records.foreign_tenant
      }/proof`,
    }),
  },
  "GET /v1/log/consistency": {
    allowed: everyone,
    ok: [200],
    has_object: false,
    build: async (world) => ({ url: `/v1/log/consistency?from=1&to=${world.log_size}` }),
  },
  "GET /v1/log/checkpoints": {
    allowed: everyone,
    ok: [200],
    has_object: false,
    build: get("/v1/log/checkpoints"),
  },
  "GET /v1/inbox": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/inbox") },
  "POST /v1/inbox/{id}/read": {
    allowed: everyone,
    // API keys are no users and have no inbox items: their "own" item does not exist either.
    ok: [404],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/inbox/${target === "own" ? newId() : world.inbox_foreign}/read`,
    }),
  },
  "POST /v1/inbox/read-all": {
    allowed: everyone,
    ok: [200],
    has_object: false,
    build: get("/v1/inbox/read-all"),
  },
  "GET /v1/notifications/preferences": {
    allowed: everyone,
    ok: [200],
    has_object: false,
    build: get("/v1/notifications/preferences"),
  },
  "PUT /v1/notifications/preferences": {
    allowed: everyone,
    // API keys are no users: user_required.
    ok: [403],
    has_object: false,
    build: async () => ({ url: "/v1/notifications/preferences", payload: { language: "en" } }),
  },
  "POST /v1/notifications/test": {
    allowed: everyone,
    ok: [202],
    has_object: false,
    build: async () => ({ url: "/v1/notifications/test", payload: {} }),
  },
  "GET /v1/notifications/status": {
    allowed: ["platform_admin", "finance", "auditor"],
    ok: [200],
    has_object: false,
    build: get("/v1/notifications/status"),
  },
  "GET /v1/event-types": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/event-types") },
  "POST /v1/webhook-endpoints": {
    allowed: endpoint_roles,
    ok: [201],
    has_object: false,
    build: async () => ({
      url: "/v1/webhook-endpoints",
      payload: { url: "https://93.184.215.14/hook", event_types: ["order.booked"] },
    }),
  },
  "GET /v1/webhook-endpoints": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: false,
    build: get("/v1/webhook-endpoints"),
  },
  "GET /v1/webhook-endpoints/{id}": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-endpoints/${endpointFor(world, caller, target).id}`,
    }),
  },
  "PATCH /v1/webhook-endpoints/{id}": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-endpoints/${endpointFor(world, caller, target).id}`,
      payload: { description: "matrix" },
    }),
  },
  "POST /v1/webhook-endpoints/{id}/disable": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-endpoints/${target === "own" ? await freshEndpoint(world, caller) : endpointFor(world, caller, target).id}/disable`,
    }),
  },
  "POST /v1/webhook-endpoints/{id}/rotate-secret": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-endpoints/${endpointFor(world, caller, target).id}/rotate-secret`,
      payload: { overlap_seconds: 60 },
    }),
  },
  "GET /v1/webhook-endpoints/{id}/deliveries": {
    allowed: endpoint_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-endpoints/${endpointFor(world, caller, target).id}/deliveries`,
    }),
  },
  "POST /v1/webhook-deliveries/{id}/retry": {
    allowed: endpoint_roles,
    ok: [202],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/webhook-deliveries/${endpointFor(world, caller, target).delivery_id}/retry`,
    }),
  },
  "PATCH /v1/parties/{id}": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/parties/${partyFor(world, caller, target)}`,
      payload: { name: `renamed ${newId()}` },
    }),
  },
  "GET /v1/parties/{id}/settlement": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/parties/${partyFor(world, caller, target)}/settlement`,
    }),
  },
  "GET /v1/orders/{id}/settlement": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/orders/${orderFor(world, caller, target)}/settlement`,
    }),
  },
  "POST /v1/settlements/runs": {
    allowed: ["platform_admin", "finance"],
    ok: [201],
    has_object: false,
    build: async () => ({ url: "/v1/settlements/runs", payload: {} }),
  },
  "GET /v1/settlements/runs/{id}/payout-file": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/settlements/runs/${target === "own" ? world.payouts.run_id : newId()}/payout-file?format=csv`,
    }),
  },
  "GET /v1/settlements/runs": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: false,
    build: get("/v1/settlements/runs"),
  },
  "GET /v1/reconciliation/imports": {
    allowed: ["platform_admin", "finance", "auditor", "reviewer"],
    ok: [200],
    has_object: false,
    build: get("/v1/reconciliation/imports"),
  },
  "GET /v1/payouts": { allowed: everyone, ok: [200], has_object: false, build: get("/v1/payouts") },
  "GET /v1/payouts/{id}": {
    allowed: everyone,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({ url: `/v1/payouts/${payoutFor(world, caller, target)}` }),
  },
  "POST /v1/payouts/{id}/confirm": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/payouts/${target === "own" ? world.payouts.merchant : newId()}/confirm`,
      payload: {},
    }),
  },
  "POST /v1/reconciliation/imports": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: false,
    build: async () => ({
      url: "/v1/reconciliation/imports?provider=wechat&dry_run=true",
      headers: { "content-type": "text/csv" },
      payload: readFileSync(join(import.meta.dirname, "../../test/bills/wechat-v3.csv")),
    }),
  },
  "GET /v1/reconciliation/imports/{id}": {
    allowed: ["platform_admin", "finance", "auditor", "reviewer"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/reconciliation/imports/${target === "own" ? world.reconciliation_id : newId()}`,
    }),
  },
  "GET /v1/reconciliation/imports/{id}/result.csv": {
    allowed: ["platform_admin", "finance", "auditor", "reviewer"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/reconciliation/imports/${target === "own" ? world.reconciliation_id : newId()}/result.csv`,
    }),
  },
  "POST /v1/payouts/{id}/fail": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/payouts/${target === "own" ? world.payouts.supplier : newId()}/fail`,
      payload: { reason: "account closed" },
    }),
  },
  "GET /v1/audit/cases": {
    allowed: audit_readers,
    ok: [200],
    has_object: false,
    build: get("/v1/audit/cases"),
  },
  "POST /v1/audit/cases": {
    allowed: ["platform_admin", "finance"],
    ok: [201],
    has_object: false,
    build: async (world) => ({
      url: "/v1/audit/cases",
      payload: { order_id: await freshOrder(world), reason: "matrix flag" },
    }),
  },
  "GET /v1/audit/cases/{id}": {
    allowed: audit_readers,
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({ url: `/v1/audit/cases/${await caseFor(world, target)}` }),
  },
  "POST /v1/audit/cases/{id}/claim": {
    allowed: audit_deciders,
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/audit/cases/${await caseFor(world, target)}/claim`,
    }),
  },
  "POST /v1/audit/cases/{id}/comments": {
    allowed: audit_deciders,
    ok: [201],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/audit/cases/${await caseFor(world, target)}/comments`,
      payload: { body: "a comment" },
    }),
  },
  "POST /v1/audit/cases/{id}/decisions": {
    allowed: audit_deciders,
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/audit/cases/${await caseFor(world, target)}/decisions`,
      payload: { decision: "approve", reason: "matrix" },
    }),
  },
  "GET /v1/audit/cases/{id}/trail": {
    allowed: audit_readers,
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/audit/cases/${await caseFor(world, target)}/trail`,
    }),
  },
  "GET /v1/audit/configs": {
    allowed: audit_readers,
    ok: [200],
    has_object: false,
    build: get("/v1/audit/configs"),
  },
  "POST /v1/audit/configs": {
    allowed: ["platform_admin", "finance"],
    ok: [201],
    has_object: false,
    build: async () => ({
      url: "/v1/audit/configs",
      payload: { name: "matrix", body: { four_eyes_minor: 1_000_000_000_000, rules: [] } },
    }),
  },
  "POST /v1/audit/configs/{id}/publish": {
    allowed: ["platform_admin", "finance"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => {
      if (target === "foreign") return { url: `/v1/audit/configs/${world.audit.foreign_config_id}/publish` };
      // Each publication of the same document keeps the tenant's threshold where the matrix needs it.
      const draft = await createAuditConfigDraft(
        world.ctx,
        world.tenant,
        { name: "matrix", body: { four_eyes_minor: 1_000_000_000_000, rules: [] } },
        flagger,
      );
      return { url: `/v1/audit/configs/${draft.id}/publish` };
    },
  },
  "POST /v1/audit/configs/{id}/backtest": {
    allowed: audit_readers,
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/audit/configs/${target === "own" ? world.audit.config_draft_id : world.audit.foreign_config_id}/backtest`,
      payload: { from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" },
    }),
  },
  "POST /v1/disputes": {
    allowed: ["merchant", "supplier", "party"],
    ok: [201],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: "/v1/disputes",
      payload: {
        order_id: target === "own" ? world.own.order_id : world.other.order_id,
        reason: "my share looks short",
      },
    }),
  },
  "GET /v1/disputes": {
    allowed: ["merchant", "supplier", "party", ...audit_readers],
    ok: [200],
    has_object: false,
    build: get("/v1/disputes"),
  },
  "GET /v1/disputes/{id}/case": {
    allowed: ["merchant", "supplier", "party", ...audit_readers],
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/disputes/${disputeFor(world, caller, target)}/case`,
    }),
  },
  "GET /v1/reports/{report}": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/reports/statement?party_id=${partyFor(world, caller, target)}&from=2026-11-01&to=2026-12-01`,
    }),
  },
  "GET /v1/reports/statement/lines/{kind}/proofs": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/reports/statement/lines/split/proofs?party_id=${partyFor(world, caller, target)}&from=2026-11-01&to=2026-12-01`,
    }),
  },
  "POST /v1/reports/saved": {
    allowed: report_roles,
    ok: [201],
    has_object: false,
    build: async () => ({ url: "/v1/reports/saved", payload: saved_definition }),
  },
  "GET /v1/reports/saved": {
    allowed: report_roles,
    ok: [200],
    has_object: false,
    build: get("/v1/reports/saved"),
  },
  "GET /v1/reports/saved/{id}": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({ url: `/v1/reports/saved/${savedFor(world, caller, target)}` }),
  },
  "GET /v1/reports/saved/{id}/run": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/reports/saved/${savedFor(world, caller, target)}/run`,
    }),
  },
  "GET /v1/reports/saved/{id}/runs": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/reports/saved/${savedFor(world, caller, target)}/runs`,
    }),
  },
  "GET /v1/reports/saved/{id}/runs/{run_id}": {
    allowed: report_roles,
    ok: [200],
    has_object: true,
    build: async (world, caller, target) => ({
      url: `/v1/reports/saved/${savedFor(world, caller, target)}/runs/${world.saved.run}`,
    }),
  },
  "POST /v1/policies/{id}/simulate": {
    allowed: ["platform_admin", "finance", "auditor"],
    ok: [200],
    has_object: true,
    build: async (world, _caller, target) => ({
      url: `/v1/policies/${target === "own" ? world.policy.draft_id : world.policy.foreign_id}/simulate`,
      payload: { from: "2026-11-01", to: "2026-12-01" },
    }),
  },
};

let db: Database;
let app: FastifyInstance;
let port: number;
let world: World;

beforeAll(async () => {
  db = await openTestDatabase();
  const ctx: ServiceContext = { db, now: () => new Date() };
  app = await buildApp({ ctx });
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as AddressInfo).port;
  const tenant = await newTestTenant(ctx, "matrix");
  const published_hash = await seedExampleMarketplace(ctx, tenant);
  // m-2002, s-4 and the referrer r-own (the party role) are "own"; m-1001 and s-9 are the other merchant and supplier.
  await createParty(ctx, tenant, { id: "r-own", kind: "referrer", name: "Own referrer" });
  const booked = await bookOrders(ctx, tenant, [own_order, issue_order]);
  expect(booked.map((result) => result.status)).toEqual(["created", "created"]);
  const draft = await createPolicyDraft(ctx, tenant, {
    name: "unpublished",
    body: { ...policy_json, version: 999 },
  });
  const second = await tenantFixture(ctx);
  const foreign_draft = await createPolicyDraft(ctx, second.tenant_id, {
    name: "other tenant",
    body: policy_json,
  });
  await publishPolicy(ctx, second.tenant_id, foreign_draft.id);
  const keys = {} as Record<Role, string>;
  for (const role of roles) {
    const party_id =
      role === "merchant" ? "m-2002" : role === "supplier" ? "s-4" : role === "party" ? "r-own" : null;
    keys[role] = (await createApiKey(ctx, tenant, { name: role, role, party_id })).key;
  }
  // Released and settled at once (T+0), so each party-scoped caller has a payout of its own.
  for (const order_id of [self_referral_order.id, issue_order.id]) await releaseOrder(ctx, tenant, order_id);
  for (const party_id of ["m-2002", "s-4", "r-own", "m-1001"])
    await updateParty(
      ctx,
      tenant,
      party_id,
      { settlement: { cycle: { type: "daily", lag_days: 0 } } },
      "matrix",
    );
  const settlement_run = await runSettlement(ctx, tenant, {
    trigger: "api",
    party_ids: ["m-2002", "s-4", "r-own", "m-1001"],
  });
  const payout_of = (party_id: string) => {
    const found = settlement_run.paid.find((item) => item.party_id === party_id);
    expect(found, `a payout for ${party_id}`).toBeDefined();
    return found!.payout_id;
  };
  const payouts = {
    run_id: settlement_run.run_id,
    merchant: payout_of("m-2002"),
    supplier: payout_of("s-4"),
    party: payout_of("r-own"),
    other: payout_of("m-1001"),
  };
  const reconciliation = await importBill(ctx, tenant, {
    provider: "wechat",
    path: join(import.meta.dirname, "../../test/bills/wechat-v3.csv"),
  });
  const audit = await auditWorld(ctx, tenant, second.tenant_id, second.merchant_a.party_id);
  await sequenceEventsOnce(ctx);
  // Statements are signed with the log's key: the same store that sequences.
  ctx.log_keys = new LogKeyStore({ host: "ledger.test", secret: "matrix-secret" });
  const log_size = await sequenceAll(ctx, tenant, ctx.log_keys);
  const platform_caller = { scope: { tenant_id: tenant, party_id: null }, actor: "matrix" };
  const shared = await createSavedReport(ctx, platform_caller, saved_definition);
  const run = newId();
  await db.query(
    `INSERT INTO report_runs (tenant_id, id, report_id, period_from, period_to, format, content_type, body, sha256, created_at)
     VALUES ($1, $2, $3, '2026-11-01', '2026-12-01', 'csv', 'text/csv; charset=utf-8', '\\x61', $4, now())`,
    [tenant, run, shared.id, "ca978112ca1bbdcafac231b39a23dc4da786eff8814a8a1ae7f4c1ed6b53bf8b"],
  );
  const other_private = await createSavedReport(
    ctx,
    { scope: { tenant_id: tenant, party_id: "m-1001" }, actor: "key:other" },
    { ...saved_definition, shared: false },
  );
  const foreign_saved = await createSavedReport(
    ctx,
    { scope: { tenant_id: second.tenant_id, party_id: null }, actor: "foreign" },
    saved_definition,
  );
  const record = async (tenant_id: string, has: string[], lacks: string[]) => {
    const rows = await db.query<{ id: string }>(
      `SELECT id::text FROM log_records WHERE tenant_id = $1 AND party_ids @> $2::text[]
          AND NOT party_ids && $3::text[] ORDER BY id LIMIT 1`,
      [tenant_id, has, lacks],
    );
    expect(rows[0]).toBeDefined();
    return rows[0]!.id;
  };
  const records = {
    own: await record(tenant, ["m-2002", "s-4", "r-own"], ["m-1001", "s-9"]),
    other: await record(tenant, ["m-1001"], ["m-2002", "s-4"]),
    foreign_tenant: await record(second.tenant_id, [], []),
  };
  const endpointOf = async (tenant_id: string, role: Role, party_id: string | null) => {
    const who = { tenant_id, role, party_id, actor: "key:matrix" };
    const endpoint = await createEndpoint(ctx, who, {
      url: "https://93.184.215.14/hook",
      event_types: ["*"],
    });
    const test = await sendTestNotification(ctx, who, { endpoint_id: endpoint.id });
    return { id: endpoint.id, delivery_id: test.delivery_id! };
  };
  const endpoints = {
    tenant: await endpointOf(tenant, "platform_admin", null),
    merchant: await endpointOf(tenant, "merchant", "m-2002"),
    supplier: await endpointOf(tenant, "supplier", "s-4"),
    party: await endpointOf(tenant, "party", "r-own"),
    other: await endpointOf(tenant, "merchant", "m-1001"),
    foreign: await endpointOf(second.tenant_id, "platform_admin", null),
  };
  const other_user = await createUser(
    ctx,
    tenant,
    { role: "merchant", party_id: "m-1001", password: "a long enough password" },
    { actor: "matrix", ip: null },
  );
  const other_test = await sendTestNotification(
    ctx,
    { tenant_id: tenant, role: "merchant", party_id: "m-1001", actor: `user:${other_user.id}` },
    {},
  );
  world = {
    endpoints,
    inbox_foreign: other_test.inbox_item_id!,
    ctx,
    tenant,
    keys,
    own: { merchant: "m-2002", supplier: "s-4", party: "r-own", order_id: own_order.id },
    other: { merchant: "m-1001", supplier: "s-9", order_id: issue_order.id },
    policy: { published_hash, draft_id: draft.id, foreign_id: foreign_draft.id },
    records,
    log_size,
    second,
    payouts,
    reconciliation_id: reconciliation.import_id,
    audit,
    saved: { shared: shared.id, run, other_private: other_private.id, foreign: foreign_saved.id },
  };
}, 180_000);

/** Audit objects of both tenants: configurations, a foreign case, and disputes of three parties. */
async function auditWorld(
  ctx: ServiceContext,
  tenant: string,
  foreign_tenant: string,
  foreign_party: string,
) {
  const config = { four_eyes_minor: 1_000_000_000_000, rules: [] };
  const published = await createAuditConfigDraft(ctx, tenant, { name: "in force", body: config }, flagger);
  await publishAuditConfig(ctx, tenant, published.id, flagger);
  const draft = await createAuditConfigDraft(ctx, tenant, { name: "draft", body: config }, flagger);
  const foreign = await createAuditConfigDraft(
    ctx,
    foreign_tenant,
    { name: "foreign", body: config },
    flagger,
  );
  const raised = await ctx.db.transaction((tx) =>
    raiseAuditHit(
      tx,
      foreign_tenant,
      {
        rule_id: "manual_flag",
        order_id: null,
        party_id: foreign_party,
        amount_minor: 1n,
        currency: "CNY",
        reason: "foreign",
        inputs: {},
        dedupe_key: `matrix:${newId()}`,
      },
      { config_hash: null, actor: "user:matrix-flagger" },
      new Date(),
    ),
  );
  const dispute = async (party_id: string, order_id: string) => {
    const principal = { tenant_id: tenant, role: "merchant" as const, party_id, actor: `user:${party_id}` };
    const opened = await openDispute(
      ctx,
      principal,
      { order_id, reason: "matrix" },
      actorOfPrincipal(principal),
    );
    return opened.case_id;
  };
  return {
    config_draft_id: draft.id,
    foreign_config_id: foreign.id,
    foreign_case_id: raised!.case_id,
    disputes: {
      merchant: await dispute("m-2002", self_referral_order.id),
      supplier: await dispute("s-4", self_referral_order.id),
      party: await dispute("r-own", self_referral_order.id),
      other: await dispute("m-1001", issue_order.id),
    },
  };
}

afterAll(async () => {
  await app.close();
  await db.close();
});

/** What the caller must never find in a response. */
function foreignMarkers(caller: Caller): string[] {
  const other_tenant = [
    world.second.tenant_id,
    ...markersOf(world.second.merchant_a),
    ...markersOf(world.second.merchant_b),
    ...markersOf(world.second.supplier_a),
  ];
  if (!party_scoped.has(caller) && caller !== "anonymous") return other_tenant;
  return [...other_tenant, world.other.merchant, world.other.supplier, world.other.order_id];
}

/** Reads an SSE response for a moment, then hangs up. */
async function readStream(url: string, key: string | null): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}${url}`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return { status: response.status, text: await response.text() };
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 400;
  const timer = setTimeout(() => controller.abort(), 400);
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
  } catch {
    // Aborted: we have read enough.
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: response.status, text };
}

async function call(method: string, rule: Rule, caller: Caller, target: Target) {
  const options = await rule.build(world, caller, target);
  const key = caller === "anonymous" ? null : world.keys[caller];
  if (rule.stream) return { options, ...(await readStream(String(options.url), key)) };
  const response = await app.inject({
    ...options,
    method: method as InjectOptions["method"],
    headers: { ...(options.headers ?? {}), ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
  });
  return { options, status: response.statusCode, text: response.body };
}

describe("isolation matrix", () => {
  it("has a rule for every route in the OpenAPI document, and every rule names a route", async () => {
    const paths = (app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
    const routes = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.filter((route) => rules[route] === undefined)).toEqual([]);
    expect(Object.keys(rules).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it("answers every route × caller × own/foreign object with the matrix's status and no foreign data", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const [route, rule] of Object.entries(rules)) {
      const method = route.split(" ")[0]!;
      for (const caller of ["anonymous", ...roles] as Caller[]) {
        const allowed =
          rule.allowed === "public" ||
          (caller !== "anonymous" && (rule.allowed as readonly string[]).includes(caller));
        const targets: Target[] = rule.has_object && allowed ? ["own", "foreign"] : ["own"];
        for (const target of targets) {
          const { options, status, text } = await call(method, rule, caller, target);
          checked++;
          const expected =
            caller === "anonymous" && rule.allowed !== "public"
              ? [401]
              : !allowed
                ? [403]
                : target === "foreign"
                  ? [404]
                  : rule.ok;
          const label = `${route} as ${caller} (${target})`;
          if (!expected.includes(status))
            failures.push(`${label}: ${status}, expected ${expected.join("|")}: ${text.slice(0, 200)}`);
          // What the caller sent may be echoed back ("no order X"); anything else foreign is a leak.
          const sent = `${options.url} ${JSON.stringify(options.payload ?? "")}`;
          for (const marker of foreignMarkers(caller)) {
            if (!sent.includes(marker) && text.includes(marker))
              failures.push(`${label}: response leaks ${marker}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(Object.keys(rules).length * 8);
  }, 300_000);
});
