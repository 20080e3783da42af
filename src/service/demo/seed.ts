import type { Role } from "../../core/auth/roles.ts";
import {
  type DemoMarketplace,
  type DemoOrder,
  generateMarketplace,
  generateOrders,
} from "../../core/demo/index.ts";
import { createApiKey } from "../auth/api-keys.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, ensureTenant } from "../ledger/accounts.ts";
import { bookOrders, orders_per_batch_max } from "../orders/book.ts";
import {
  completeOrders,
  completions_per_batch_max,
  refundOrder,
  releaseDue,
  releases_per_batch_max,
} from "../orders/order-lifecycle.ts";
import { assignPolicy, createPolicyDraft, publishPolicy } from "../policies.ts";
import { seedDemoAudit } from "./audit-seed.ts";
import { createDemoLogins, type DemoLogin } from "./logins.ts";

export const demo_tenant_id = "demo";
export const demo_history_ms = 60 * 86_400_000;

/** Parties, the published policy and its tenant-wide assignment. Returns the policy hash. */
export async function seedMarketplace(
  ctx: ServiceContext,
  tenant_id: string,
  market: DemoMarketplace,
): Promise<string> {
  for (const party of market.parties) await createParty(ctx, tenant_id, party);
  const draft = await createPolicyDraft(ctx, tenant_id, market.policy);
  const published = await publishPolicy(ctx, tenant_id, draft.id);
  await assignPolicy(ctx, tenant_id, {
    scope: "tenant",
    policy_hash: published.hash!,
    effective_from: new Date(0),
  });
  return published.hash!;
}

type Step =
  | { at_ms: number; type: "book"; body: unknown }
  | { at_ms: number; type: "complete"; order_id: string }
  | { at_ms: number; type: "refund"; order_id: string; body: unknown; kind: "refund" | "chargeback" };

export interface DemoOptions {
  tenant_id?: string;
  orders: number;
  seed?: number;
  /** Called as history is replayed: done out of total steps. */
  progress?: (done: number, total: number) => void;
}

export interface DemoCredential {
  role: Role;
  party_id: string | null;
  key: string;
}

export type { DemoLogin } from "./logins.ts";

/**
 * Seeds a demo marketplace with `orders` orders paid over the last 60 days,
 * replaying their history on a simulated clock so completions, refunds and
 * releases happen when they would have.
 */
export async function seedDemo(
  ctx: ServiceContext,
  options: DemoOptions,
): Promise<{ tenant_id: string; credentials: DemoCredential[]; logins: DemoLogin[] }> {
  const tenant_id = options.tenant_id ?? demo_tenant_id;
  const seed = options.seed ?? 20261125;
  const market = generateMarketplace({ seed });
  await ensureTenant(ctx, { id: tenant_id, name: "Demo marketplace" });
  await seedMarketplace(ctx, tenant_id, market);
  const end_ms = ctx.now().getTime();
  const steps = historyOf(
    generateOrders(market, {
      seed,
      count: options.orders,
      start_ms: end_ms - demo_history_ms,
      end_ms: end_ms - 3_600_000,
    }),
    end_ms,
  );
  let sim_ms = end_ms - demo_history_ms;
  const sim: ServiceContext = { db: ctx.db, now: () => new Date(sim_ms) };
  // History replays in windows of simulated time: per window one booking batch,
  // one completion batch and the refunds, then the scheduler's release pass.
  // Instants inside a day are coarsened to the latest step of each kind.
  let done = 0;
  for (const window of windowsOf(steps, replay_window_ms)) {
    const books = window.filter((s): s is Extract<Step, { type: "book" }> => s.type === "book");
    const completes = window.filter((s): s is Extract<Step, { type: "complete" }> => s.type === "complete");
    const refunds = window.filter((s): s is Extract<Step, { type: "refund" }> => s.type === "refund");
    for (let i = 0; i < books.length; i += orders_per_batch_max) {
      const chunk = books.slice(i, i + orders_per_batch_max);
      sim_ms = chunk[chunk.length - 1]!.at_ms;
      await bookOrders(
        sim,
        tenant_id,
        chunk.map((step) => step.body),
      );
    }
    for (const step of refunds) {
      sim_ms = step.at_ms;
      await refundOrder(sim, tenant_id, step.order_id, step.body, step.kind);
    }
    for (let i = 0; i < completes.length; i += completions_per_batch_max) {
      const chunk = completes.slice(i, i + completions_per_batch_max);
      sim_ms = chunk[chunk.length - 1]!.at_ms;
      await completeOrders(
        sim,
        tenant_id,
        chunk.map((step) => step.order_id),
        undefined,
        { fully_refunded: "skip" },
      );
    }
    sim_ms = window[window.length - 1]!.at_ms;
    while ((await releaseDue(sim, tenant_id)) === releases_per_batch_max) {}
    done += window.length;
    options.progress?.(done, steps.length);
  }
  sim_ms = end_ms;
  while ((await releaseDue(sim, tenant_id)) === releases_per_batch_max) {}
  const credentials = await demoCredentials(ctx, tenant_id, market);
  const logins = await createDemoLogins(ctx, tenant_id, {
    merchant_id: market.merchants[0]!.id,
    supplier_id: market.parties.find((party) => party.kind === "supplier")!.id,
    referrer_id: market.parties.find((party) => party.kind === "referrer")!.id,
  });
  // Two more reviewers, so a four-eyes case can be decided by two people at once.
  logins.push(...(await seedDemoAudit(ctx, tenant_id)));
  return { tenant_id, credentials, logins };
}

function historyOf(orders: Iterable<DemoOrder>, end_ms: number): Step[] {
  const steps: Step[] = [];
  for (const order of orders) {
    const body = order.body as { id: string; paid_at: string };
    const paid_ms = Date.parse(body.paid_at);
    steps.push({ at_ms: paid_ms, type: "book", body });
    if (order.complete_after_ms !== null && paid_ms + order.complete_after_ms < end_ms) {
      steps.push({ at_ms: paid_ms + order.complete_after_ms, type: "complete", order_id: body.id });
    }
    for (const refund of order.refunds) {
      if (paid_ms + refund.after_ms < end_ms) {
        steps.push({
          at_ms: paid_ms + refund.after_ms,
          type: "refund",
          order_id: body.id,
          body: refund.body,
          kind: refund.kind,
        });
      }
    }
  }
  // Stable: an order's own steps keep their order when they share an instant.
  return steps.sort((a, b) => a.at_ms - b.at_ms);
}

const replay_window_ms = 24 * 3_600_000;

function* windowsOf(steps: readonly Step[], window_ms: number): Generator<Step[]> {
  let window: Step[] = [];
  for (const step of steps) {
    if (
      window.length > 0 &&
      Math.floor(step.at_ms / window_ms) !== Math.floor(window[0]!.at_ms / window_ms)
    ) {
      yield window;
      window = [];
    }
    window.push(step);
  }
  if (window.length > 0) yield window;
}

async function demoCredentials(
  ctx: ServiceContext,
  tenant_id: string,
  market: DemoMarketplace,
): Promise<DemoCredential[]> {
  const merchant = market.merchants[0]!.id;
  const supplier = market.parties.find((party) => party.kind === "supplier")!.id;
  const referrer = market.parties.find((party) => party.kind === "referrer")!.id;
  const wanted: { role: Role; party_id: string | null; name: string }[] = [
    { role: "platform_admin", party_id: null, name: "demo platform admin" },
    { role: "finance", party_id: null, name: "demo finance" },
    { role: "reviewer", party_id: null, name: "demo reviewer" },
    { role: "auditor", party_id: null, name: "demo auditor" },
    { role: "merchant", party_id: merchant, name: `demo merchant ${merchant}` },
    { role: "supplier", party_id: supplier, name: `demo supplier ${supplier}` },
    // Every other kind of party (here a referrer) sees its own shares through the party role.
    { role: "party", party_id: referrer, name: `demo referrer ${referrer}` },
    // The mall's key, as docs/integration.md asks the platform administrator for.
    { role: "integration", party_id: null, name: "demo mall integration" },
  ];
  const credentials: DemoCredential[] = [];
  for (const item of wanted) {
    const { key } = await createApiKey(ctx, tenant_id, {
      name: item.name,
      role: item.role,
      party_id: item.party_id,
    });
    credentials.push({ role: item.role, party_id: item.party_id, key });
  }
  return credentials;
}
