import type { DemoMarketplace } from "../core/demo/index.ts";
import type { ServiceContext } from "../service/context.ts";
import { seedMarketplace } from "../service/demo/seed.ts";

// Seeds a bench tenant as the demo does: parties, the policy published and
// assigned to the whole tenant. Accounts are left to the order paths, which
// open them on first use, so the bench also exercises that under concurrency.
export async function seedBenchTenant(
  ctx: ServiceContext,
  tenant_id: string,
  market: DemoMarketplace,
): Promise<string> {
  return seedMarketplace(ctx, tenant_id, market);
}
