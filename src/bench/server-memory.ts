import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateMarketplace } from "../core/demo/index.ts";
import { newId } from "../core/ids.ts";
import { createApiKey } from "../service/auth/api-keys.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { createBenchDatabase } from "./bench-database.ts";
import { seedBenchTenant } from "./bench-seed.ts";
import { BenchClient } from "./client.ts";
import { OrderFeed } from "./feed.ts";
import { startServerProcess } from "./server-process.ts";

// The server's peak resident set and its CPU per order for a fixed amount of
// work, under each of several environments, interleaved: unlike a timed run,
// the work is the same whatever else the machine is doing, so settings can be
// compared on a busy box.
//
//   DATABASE_URL=postgres://... npx tsx src/bench/server-memory.ts --orders 30000 \
//     --variant default= --variant growing50=CLEARSPLIT_HEAP_GROWING_PERCENT=50 --rounds 2
//
// Each run starts `clearsplit serve` in its own process (as `bench` does) with
// the variant's environment, books `--orders` through POST /v1/orders/batch
// from 4 clients on a fresh tenant, and reports the server's VmHWM and its
// user + system CPU per order. Linux only (it reads /proc). Prints figures,
// asserts nothing about them.

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "30000" },
    batch: { type: "string", default: "500" },
    clients: { type: "string", default: "4" },
    rounds: { type: "string", default: "1" },
    /** NAME=KEY=VALUE[,KEY=VALUE]: the server's extra environment (NAME= for none). */
    variant: { type: "string", multiple: true, default: ["default="] },
  },
});
const orders_total = Number(values.orders);
const batch_size = Number(values.batch);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
if (!process.env.DATABASE_URL) throw new Error("server-memory needs DATABASE_URL (PostgreSQL)");
if (![orders_total, batch_size, clients, rounds].every((n) => Number.isInteger(n) && n >= 1))
  throw new Error("--orders, --batch, --clients and --rounds are positive integers");

const variants = values.variant.map((text) => {
  const at = text.indexOf("=");
  if (at < 1) throw new Error(`--variant ${text}: NAME=KEY=VALUE[,KEY=VALUE]`);
  const env: Record<string, string> = {};
  for (const pair of text
    .slice(at + 1)
    .split(",")
    .filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new Error(`--variant ${text}: ${pair} is not KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { name: text.slice(0, at), env };
});

/** Times one batch is sent again after a 503 before the run fails. */
const retries_503_max = 50;
const clock_tick_us = 10_000; // USER_HZ is 100 on Linux
const cpuUs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * clock_tick_us;
};

const bench = await createBenchDatabase("pg", process.env.DATABASE_URL);
try {
  const market = generateMarketplace({ seed: 1 });
  const ctx = { db: bench.db, now: () => new Date() };
  for (let round = 1; round <= rounds; round++)
    for (const variant of variants) {
      const tenant_id = `mem-${newId().replaceAll("-", "").slice(-12)}`;
      await ensureTenant(ctx, { id: tenant_id, name: "server memory" });
      await seedBenchTenant(ctx, tenant_id, market);
      const key = (await createApiKey(ctx, tenant_id, { name: "server memory", role: "platform_admin" })).key;
      const server = await startServerProcess(bench.url!, { env: variant.env });
      const [pid] = await server.pids();
      const client = new BenchClient(server.base_url, key, clients);
      const feed = new OrderFeed(market, round, `M${round}-${variant.name}-`, Date.now());
      const cpu_before = cpuUs(pid!);
      const started = performance.now();
      let sent = 0;
      let booked = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (sent < orders_total) {
            sent += batch_size;
            const orders = feed.take(batch_size).map((order) => order.body);
            let response = await client.post("/v1/orders/batch", { orders });
            // 503: the server sheds load (its queue is full); the same orders go again shortly.
            for (let tries = 1; response.status === 503 && tries < retries_503_max; tries++) {
              await new Promise((resolve) => setTimeout(resolve, 100));
              response = await client.post("/v1/orders/batch", { orders });
            }
            if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
            const results = (response.body as { results: { status: string }[] }).results;
            booked += results.filter((result) => result.status === "created").length;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1_000;
      const cpu_us = cpuUs(pid!) - cpu_before;
      const rss_mb = await server.peakRssMb();
      client.close();
      await server.stop();
      console.log(
        `${variant.name.padEnd(14)} round ${round}  ${booked} orders in ${seconds.toFixed(1)} s  ` +
          `peak RSS ${rss_mb.toFixed(0)} MB  server CPU ${Math.round(cpu_us / booked)} µs/order`,
      );
    }
} finally {
  await bench.drop();
}
