import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateMarketplace, generateOrders } from "../core/demo/index.ts";
import { allocate, loadPolicy, parseOrder, pspTerms } from "../core/split/index.ts";
import type { Database } from "../store/database.ts";
import { openTestDatabase } from "../testing/db.ts";
import { parseBenchArgs, scenario_names, UsageError } from "./args.ts";
import { summarise } from "./cpu-profile.ts";
import { uuidv7Ms } from "./lag.ts";
import { NaiveLedger, naiveProblems } from "./naive.ts";
import { formatTable, percentile, result_fields, toJsonLine, toResult } from "./result.ts";
import { runTimed } from "./step-runner.ts";

describe("bench arguments", () => {
  it("defaults to every scenario, 10 s, and pg only when DATABASE_URL is set", () => {
    const local = parseBenchArgs([], {});
    expect(local.scenarios).toEqual([...scenario_names]);
    expect(local.seconds).toBe(10);
    expect(local.backend).toBe("pglite");
    expect(local.json).toBe(false);
    expect(parseBenchArgs([], { DATABASE_URL: "postgres://x/y" }).backend).toBe("pg");
    expect(local.server).toBe("inline");
    expect(parseBenchArgs([], { DATABASE_URL: "postgres://x/y" }).server).toBe("process");
    expect(parseBenchArgs(["--server", "inline"], { DATABASE_URL: "postgres://x/y" }).server).toBe("inline");
  });

  it("takes repeated scenarios, seconds, backend, json and profile", () => {
    const options = parseBenchArgs(
      [
        "--scenario",
        "batch",
        "--scenario",
        "single",
        "--seconds",
        "5",
        "--backend",
        "pglite",
        "--json",
        "--profile",
      ],
      { DATABASE_URL: "postgres://x/y" },
    );
    expect(options.scenarios).toEqual(["batch", "single"]);
    expect(options.seconds).toBe(5);
    expect(options.backend).toBe("pglite");
    expect(options.database_url).toBeUndefined();
    expect(options.json).toBe(true);
    expect(options.profile).toBe(true);
  });

  // Proves `--scenario proof` measures proofs both at idle and under batch load, and that both are in the default list.
  it("expands proof to the idle and the loaded proof scenarios", () => {
    expect(parseBenchArgs(["--scenario", "proof"], {}).scenarios).toEqual(["proof", "proof-load"]);
    expect(parseBenchArgs(["--scenario", "proof-load"], {}).scenarios).toEqual(["proof-load"]);
    expect(parseBenchArgs([], {}).scenarios).toEqual(expect.arrayContaining(["proof", "proof-load"]));
  });

  it("refuses unknown scenarios, bad numbers, unknown flags and pg without a URL", () => {
    expect(() => parseBenchArgs(["--scenario", "nope"], {})).toThrow(UsageError);
    expect(() => parseBenchArgs(["--seconds", "0"], {})).toThrow(/seconds/);
    expect(() => parseBenchArgs(["--clients", "65"], {})).toThrow(/clients/);
    expect(() => parseBenchArgs(["--fast"], {})).toThrow(UsageError);
    expect(() => parseBenchArgs(["--backend", "pg"], {})).toThrow(/DATABASE_URL/);
    expect(() => parseBenchArgs(["--server", "process"], {})).toThrow(/PGlite/);
    expect(() => parseBenchArgs(["--server", "elsewhere"], { DATABASE_URL: "postgres://x/y" })).toThrow(
      /--server/,
    );
    expect(() => parseBenchArgs(["--server-workers", "2"], {})).toThrow(/--server process/);
    expect(() => parseBenchArgs(["--server-workers", "0"], { DATABASE_URL: "postgres://x/y" })).toThrow(
      /server-workers/,
    );
  });

  it("runs the HTTP scenarios once per --server-workers value, 1 by default", () => {
    const url = { DATABASE_URL: "postgres://x/y" };
    expect(parseBenchArgs([], url).server_workers).toEqual([1]);
    expect(parseBenchArgs(["--server-workers", "1", "--server-workers", "2"], url).server_workers).toEqual([
      1, 2,
    ]);
  });
});

describe("bench results", () => {
  it("prints one JSON object with exactly the issue's fields, in order", () => {
    const result = toResult({
      scenario: "batch",
      backend: "pg",
      orders: 1000,
      postings: 7000,
      seconds: 2,
      latencies_ms: [1, 2, 3, 4, 100],
      max_rss_mb: 123.456,
      checkpoint_lag_ms_max: null,
      baseline_orders_per_s: 50,
    });
    const line = toJsonLine(result);
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)).toEqual([...result_fields]);
    expect(parsed).toMatchObject({
      orders_per_s: 500,
      postings_per_s: 3500,
      p50_ms: 3,
      p99_ms: 100,
      ratio_vs_baseline: 10,
    });
    expect(formatTable([result])).toContain("batch");
  });

  it("takes nearest-rank percentiles and has none without samples", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, index) => index + 1),
        0.99,
      ),
    ).toBe(99);
  });
});

describe("checkpoint lag", () => {
  it("reads the wall-clock instant of a UUIDv7 and refuses other versions", () => {
    expect(uuidv7Ms("01a210c0-843c-77b8-a9d3-0ce65483d824")).toBe(0x01a210c0843c);
    expect(uuidv7Ms("01a210c0-843c-47b8-a9d3-0ce65483d824")).toBeNull();
  });
});

describe("timed runner", () => {
  it("counts only steps that start after the warm-up, and stops every worker at the first error", async () => {
    const started = performance.now();
    let steps_total = 0;
    const timed = await runTimed({
      label: "t",
      seconds: 0.3,
      warmup_seconds: 0.2,
      workers: 3,
      progress: false,
      step: async () => {
        steps_total++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { orders: 2, postings: 5 };
      },
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(490);
    expect(timed.error).toBeUndefined();
    expect(timed.orders).toBe(2 * timed.latencies_ms.length);
    expect(timed.latencies_ms.length).toBeLessThan(steps_total);
    expect(timed.seconds).toBeGreaterThanOrEqual(0.3);
    let calls = 0;
    const failed = await runTimed({
      label: "t",
      seconds: 5,
      warmup_seconds: 0,
      workers: 4,
      progress: false,
      step: async () => {
        const call = ++calls;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (call === 3) throw new Error("boom");
        return { orders: 1, postings: 1 };
      },
    });
    expect((failed.error as Error).message).toBe("boom");
    expect(calls).toBeLessThan(20);
  });
});

describe("naive baseline", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it("books a handful of demo orders with balanced postings, balances equal to postings, and a zero total", async () => {
    const market = generateMarketplace({ seed: 5 });
    const { policy, policy_hash } = loadPolicy(market.policy.body);
    const ledger = await NaiveLedger.open(
      db,
      market.parties.map((party) => party.id),
      market.parties.filter((party) => party.kind === "psp").map((party) => party.id),
    );
    const prefix = `T${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}-`;
    const orders = [
      // Paid in 2026: ClearSplit accepts no paid_at before 2000 (issue 12).
      ...generateOrders(market, {
        seed: 5,
        count: 20,
        start_ms: Date.parse("2026-01-01T00:00:00Z"),
        end_ms: Date.parse("2026-01-01T00:00:00Z") + 1e9,
        id_prefix: prefix,
      }),
    ];
    let postings = 0;
    await Promise.all(
      orders.map(async (demo) => {
        const order = parseOrder(demo.body);
        const allocation = allocate(policy, order, { policy_hash });
        const written = await ledger.book(
          order,
          allocation.legs,
          pspTerms(policy, order.psp!.provider).party_id,
        );
        postings += written;
      }),
    );
    expect(await naiveProblems(db)).toEqual([]);
    const [row] = await db.query<{ count: bigint }>(
      `SELECT count(*)::int8 AS count FROM naive_postings p JOIN naive_transactions t ON t.id = p.transaction_id
        WHERE t.order_id LIKE $1`,
      [`${prefix}%`],
    );
    expect(row!.count).toBe(BigInt(postings));
    // The checks can fail: an out-of-band change to a balance is caught.
    await db.query("UPDATE naive_accounts SET balance_minor = balance_minor + 1 WHERE party_id = 'platform'");
    expect((await naiveProblems(db)).length).toBeGreaterThan(0);
    await db.query("UPDATE naive_accounts SET balance_minor = balance_minor - 1 WHERE party_id = 'platform'");
  });
});

describe("profile summary", () => {
  it("states the idle share and ranks functions by their share of the busy samples", () => {
    const frame = (functionName: string) => ({ functionName, url: "", lineNumber: 0 });
    const summary = summarise({
      nodes: [
        { id: 1, callFrame: frame("(idle)") },
        { id: 2, callFrame: frame("hot") },
        { id: 3, callFrame: frame("warm") },
      ],
      // 6 idle, 3 hot, 1 warm: hot is 75% of the busy samples, not 30% of all.
      samples: [1, 1, 1, 1, 1, 1, 2, 2, 2, 3],
    });
    const lines = summary.trim().split("\n");
    expect(lines[0]).toBe("idle: 60.0% of 10 samples; shares below are of the 4 busy ones");
    expect(lines[1]).toMatch(/^ 75\.0% {2}hot/);
    expect(lines[2]).toMatch(/^ 25\.0% {2}warm/);
    expect(summary).not.toContain("(idle)  ");
  });
});
