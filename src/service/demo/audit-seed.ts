import { randomBytes } from "node:crypto";
import { booking_rules, history_rules } from "../../core/audit/rules.ts";
import { selectLargestHeldOrders } from "../../store/orders-sql.ts";
import type { Actor } from "../audit/actor.ts";
import { flagOrder } from "../audit/cases.ts";
import { createAuditConfigDraft, publishAuditConfig } from "../audit/configs.ts";
import { decideCase } from "../audit/decide-case.ts";
import { openDispute } from "../audit/disputes.ts";
import { createUser } from "../auth/users.ts";
import type { ServiceContext } from "../context.ts";
import type { DemoLogin } from "./logins.ts";

// The demo's audit: a published rule configuration, open cases (the largest
// needing two approvals), a decided case, a merchant's dispute, and two
// reviewer logins so the four-eyes path can be tried at once (docs/audit.md).

const finance: Actor = { actor: "system:demo", person: null, role: "finance" };

export async function seedDemoAudit(ctx: ServiceContext, tenant_id: string): Promise<DemoLogin[]> {
  // The two reviewers exist even in a demo too small for cases: four eyes can be tried on any case.
  const logins: DemoLogin[] = [];
  const people: Actor[] = [];
  for (const name of ["reviewer1", "reviewer2"]) {
    const password = randomBytes(12).toString("base64url");
    const login = `${name}@demo.clearsplit.local`;
    const user = await createUser(
      ctx,
      tenant_id,
      { role: "reviewer", email: login, password },
      { actor: "system:demo", ip: null },
    );
    logins.push({ role: "reviewer", party_id: null, login, password });
    people.push({ actor: `user:${user.id}`, person: `user:${user.id}`, role: "reviewer" });
  }
  // Unreleased orders, largest first: the ones a case can still hold.
  const orders = await selectLargestHeldOrders(ctx.db, tenant_id, 50);
  if (orders.length < 5) return logins;
  const pick = (fraction: number) => orders[Math.floor((orders.length - 1) * fraction)]!;
  // The second-largest order sets the threshold: the largest case needs two people, the others one.
  const four_eyes_minor = Number(orders[1]!.paid_minor);
  const body = {
    four_eyes_minor,
    rules: [...booking_rules, ...history_rules].map((rule) => ({ id: rule.id })),
  };
  const draft = await createAuditConfigDraft(ctx, tenant_id, { name: "Demo rules", body }, finance);
  await publishAuditConfig(ctx, tenant_id, draft.id, finance);
  await flagOrder(ctx, tenant_id, { order_id: orders[0]!.id, reason: "largest basket this month" }, finance);
  for (const fraction of [0.3, 0.6])
    await flagOrder(ctx, tenant_id, { order_id: pick(fraction).id, reason: "spot check" }, finance);
  const decided = await flagOrder(ctx, tenant_id, { order_id: pick(0.8).id, reason: "spot check" }, finance);
  await decideCase(
    ctx,
    tenant_id,
    decided.id,
    { decision: "approve", reason: "matches the PSP statement" },
    people[0]!,
  );
  const disputed = pick(0.95);
  const merchant = {
    tenant_id,
    role: "merchant" as const,
    party_id: disputed.merchant_id,
    actor: `system:demo:${disputed.merchant_id}`,
  };
  await openDispute(
    ctx,
    merchant,
    { order_id: disputed.id, reason: "the commission on this order looks higher than our tier" },
    { actor: merchant.actor, person: null, role: "merchant" },
  );
  return logins;
}
