import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { citus_tenant_probes_in_flight_max } from "../core/limits.ts";
import type { ServiceContext } from "../service/context.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Database } from "./database.ts";

// Proves the Citus background rounds' tenant probe (store/citus-sql.ts) on any
// backend: every tenant is asked, the answers come back in tenant id order
// whatever order the probes finish in, no more than the bound are in flight,
// and a round that wants a few answers stops asking once it has them.

let db: Database;
let ctx: ServiceContext;
const mine: string[] = [];
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  for (let index = 0; index < 6; index++) mine.push(await newTestTenant(ctx, "probe"));
  mine.sort();
});
afterAll(async () => db.close());

describe("probeEachTenant", () => {
  it("asks every tenant with a bounded number in flight and answers in tenant order", async () => {
    let in_flight = 0;
    let in_flight_most = 0;
    const asked = new Set<string>();
    const answers = await probeEachTenant(db, async (tenant_id) => {
      in_flight++;
      in_flight_most = Math.max(in_flight_most, in_flight);
      asked.add(tenant_id);
      // Later tenants of ours answer sooner, so finishing order is not asking order.
      const rank = mine.indexOf(tenant_id);
      await new Promise((resolve) => setTimeout(resolve, rank < 0 ? 0 : (mine.length - rank) * 3));
      in_flight--;
      return rank < 0 ? undefined : tenant_id;
    });
    expect(answers).toEqual(mine);
    for (const tenant_id of mine) expect(asked.has(tenant_id)).toBe(true);
    expect(in_flight_most).toBeLessThanOrEqual(citus_tenant_probes_in_flight_max);
    expect(in_flight_most).toBeGreaterThan(1);
  });

  it("gives the first answers in tenant order and stops asking once it has enough", async () => {
    const asked: string[] = [];
    const answers = await probeEachTenant(
      db,
      async (tenant_id) => {
        asked.push(tenant_id);
        return mine.includes(tenant_id) ? tenant_id : undefined;
      },
      2,
    );
    expect(answers).toEqual(mine.slice(0, 2));
    // Probes already started may finish, but none starts after the answers are in.
    const after_second = asked.filter((tenant_id) => tenant_id > mine[1]!);
    expect(after_second.length).toBeLessThan(citus_tenant_probes_in_flight_max);
  });
});
