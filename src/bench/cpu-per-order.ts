import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

// CPU per order, booking and each background role apart: Node's own CPU
// (process.cpuUsage) and the PostgreSQL backends' (/proc/<pid>/stat), both in
// microseconds per order. CPU time, unlike orders/s, barely moves when other
// work shares the machine, so two trees can be compared on a busy box:
//
//   DATABASE_URL=postgres://... npx tsx src/bench/cpu-per-order.ts --root ../other-checkout
//
// `--root` names the checkout whose code runs (this one by default); a role
// that tree lacks is skipped. Linux only (it reads /proc). Not a test: it
// prints figures and asserts nothing about them.
//
// The notification roles: "people fan-out" (the people channel over the
// booked orders' events; the bench tenant has no users, as in `bench`) and
// "webhooks" (dispatcher rounds with one endpoint subscribed to order.booked,
// fanning out and sending every delivery to a loopback receiver). The
// receiver runs in a child process, so its CPU is not counted in "webhooks":
// what is counted there is what the platform spends per order to deliver it.
// The receiver's own CPU is printed on a line of its own ("receiver"), since
// in `bench` it shares the machine with the booking it is compared with.

const { values } = parseArgs({
  options: {
    root: { type: "string" },
    orders: { type: "string", default: "10000" },
    batch: { type: "string", default: "500" },
    "notify-batch": { type: "string", default: "1000" },
    /** Fold in rounds of this many leaves (the scheduler's rounds are about one second of orders), not all at once. */
    "fold-leaves": { type: "string" },
    /** A role to profile (V8 CPU profile in bench-out/cpu-<role>.cpuprofile); its figures then include the profiler's cost. */
    profile: { type: "string" },
  },
});
const root = resolve(values.root ?? new URL("../..", import.meta.url).pathname);
const orders_total = Number(values.orders);
const batch_size = Number(values.batch);
/** Events per dispatcher fan-out transaction (the dispatcher's own default is 1,000). */
const notify_batch = Number(values["notify-batch"]);
const fold_leaves = values["fold-leaves"] === undefined ? null : Number(values["fold-leaves"]);
if (!process.env.DATABASE_URL) throw new Error("cpu-per-order needs DATABASE_URL (PostgreSQL)");
if (
  !Number.isInteger(orders_total) ||
  !Number.isInteger(batch_size) ||
  batch_size < 1 ||
  orders_total < batch_size ||
  !Number.isInteger(notify_batch) ||
  notify_batch < 1 ||
  (fold_leaves !== null && (!Number.isInteger(fold_leaves) || fold_leaves < 1))
)
  throw new Error("--orders and --batch are positive integers, orders >= batch");

const load = (path: string) => import(`${root}/${path}`);
const first = (...paths: string[]) => paths.find((path) => existsSync(`${root}/${path}`)) ?? paths[0]!;
const { createBenchDatabase } = await load(first("src/bench/bench-database.ts", "src/bench/database.ts"));
const { generateMarketplace } = await load("src/core/demo/index.ts");
const { newId } = await load("src/core/ids.ts");
const { ensureTenant } = await load("src/service/ledger/accounts.ts");
const { seedBenchTenant } = await load(first("src/bench/bench-seed.ts", "src/bench/seed.ts"));
const { OrderFeed } = await load("src/bench/feed.ts");
const { bookOrders } = await load("src/service/orders/book.ts");
const { Profiler } = await import("./cpu-profile.ts");

const bench = await createBenchDatabase("pg", process.env.DATABASE_URL);
const clock_tick_us = 10_000; // USER_HZ is 100 on Linux
try {
  const ctx = { db: bench.db, now: () => new Date() };
  const market = generateMarketplace({ seed: 1 });
  const tenant_id = `cpu-${newId().replaceAll("-", "").slice(-12)}`;
  await ensureTenant(ctx, { id: tenant_id, name: "cpu per order" });
  await seedBenchTenant(ctx, tenant_id, market);
  const feed = new OrderFeed(market, 42, "CPU-", Date.now());
  const bodies = () => feed.take(batch_size).map((order: { body: unknown }) => order.body);

  const backendPids = async (): Promise<number[]> =>
    (
      (await bench.db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")) as {
        pid: number;
      }[]
    ).map((row: { pid: number }) => row.pid);
  const backendTicks = (pids: readonly number[]): number => {
    let ticks = 0;
    for (const pid of pids) ticks += processTicks(pid);
    return ticks;
  };
  let created = 0;
  async function phase(name: string, work: () => Promise<void>): Promise<void> {
    const profiler = values.profile === name ? new Profiler() : null;
    await profiler?.start();
    const pids_before = await backendPids();
    const ticks_before = backendTicks(pids_before);
    const cpu_before = process.cpuUsage();
    await work();
    const cpu = process.cpuUsage(cpu_before);
    if (profiler !== null) console.log(await profiler.stop(`cpu-${name.replaceAll(" ", "-")}`));
    const database_us = (backendTicks(await backendPids()) - ticks_before) * clock_tick_us;
    const node_us = cpu.user + cpu.system;
    console.log(
      `${name.padEnd(16)} node ${String(Math.round(node_us / created)).padStart(5)} µs/order   ` +
        `database ${String(Math.round(database_us / created)).padStart(5)} µs/order   ` +
        `(node in the kernel ${Math.round(cpu.system / created)})`,
    );
  }

  await bookOrders(ctx, tenant_id, bodies()); // warm-up: accounts opened, code compiled
  const notifications = existsSync(`${root}/src/service/notifications/dispatcher.ts`);
  const receiver = notifications ? await startReceiverProcess() : null;
  if (receiver !== null) {
    // The endpoint starts at the stream's end: the warm-up's events are numbered first, so it gets
    // exactly the orders booked below.
    const { sequenceEventsOnce } = await load(
      first("src/service/events/event-sequencer.ts", "src/service/events/sequencer.ts"),
    );
    while ((await sequenceEventsOnce(ctx)) > 0);
    process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
    const { createEndpoint } = await load("src/service/notifications/endpoints.ts");
    await createEndpoint(
      ctx,
      { tenant_id, role: "platform_admin", party_id: null, actor: "key:cpu" },
      { url: `${receiver.url}/cpu`, event_types: ["order.booked"] },
    );
  }
  await phase("book", async () => {
    for (let done = 0; done < orders_total; done += batch_size) {
      const results = await bookOrders(ctx, tenant_id, bodies());
      created += results.filter((result: { status: string }) => result.status === "created").length;
    }
  });
  const { sequenceOnce } = await load(
    first("src/service/tlog/log-sequencer.ts", "src/service/tlog/sequencer.ts"),
  );
  const { LogKeyStore } = await load(first("src/service/tlog/signing-keys.ts", "src/service/tlog/keys.ts"));
  const keys = new LogKeyStore();
  await keys.signer(bench.db, tenant_id); // the key's scrypt is not per order
  await phase("log sequencer", async () => {
    const cache = new Map();
    for (;;) {
      const result = await sequenceOnce(ctx, tenant_id, { keys, cache, batch_max: 50_000 });
      if (result.status !== "checkpointed" || result.appended === 0) break;
    }
  });
  const { sequenceEventsOnce } = await load(
    first("src/service/events/event-sequencer.ts", "src/service/events/sequencer.ts"),
  );
  await phase("event sequencer", async () => {
    while ((await sequenceEventsOnce(ctx)) > 0);
  });
  const fold = first("src/service/reports/report-fold.ts", "src/service/reports/fold.ts");
  if (existsSync(`${root}/${fold}`)) {
    const { foldLedgerDays, foldTenantOnce } = await load(fold);
    await phase("report fold", async () => {
      if (fold_leaves === null) while ((await foldLedgerDays(ctx)) > 0);
      else while ((await foldTenantOnce(ctx, tenant_id, fold_leaves)) > 0);
    });
  }
  const audit = first("src/service/audit/audit-runner.ts", "src/service/audit/runner.ts");
  if (existsSync(`${root}/${audit}`)) {
    const { runAuditOnce } = await load(audit);
    await phase("audit runner", async () => {
      while ((await runAuditOnce(ctx)) > 0);
    });
  }
  if (receiver !== null) await notificationPhases(receiver);
  console.log(`${created} orders booked in batches of ${batch_size}, code from ${root}`);

  async function notificationPhases(receiver: ReceiverProcess): Promise<void> {
    const { inTransaction } = await load("src/store/retry.ts");
    const { fanOutPeople } = await load("src/service/notifications/people.ts");
    const { dispatchTenant } = await load("src/service/notifications/dispatcher.ts");
    const { Mailer } = await load("src/service/notifications/mailer.ts");
    await phase("people fan-out", async () => {
      while (
        (await inTransaction(ctx.db, (tx: unknown) =>
          fanOutPeople(tx, tenant_id, ctx.now(), notify_batch),
        )) >= notify_batch
      );
    });
    const mailer = new Mailer({
      smtp_url: null,
      from: "ClearSplit <noreply@clearsplit.test>",
      eml_dir: mkdtempSync(join(tmpdir(), "clearsplit-cpu-mail-")),
      tls_reject_unauthorized: true,
      backoff_ms: 5_000,
      lease_ms: 60_000,
    });
    const deps = { retry_schedule_ms: [5_000], allow_private: true, mailer, batch_max: notify_batch };
    const receiver_ticks_before = processTicks(receiver.pid);
    await phase("webhooks", async () => {
      for (;;) {
        const counts = await dispatchTenant(ctx, tenant_id, deps);
        if (counts.webhook_events === 0 && counts.webhook_attempts === 0) break;
      }
    });
    const receiver_us = (processTicks(receiver.pid) - receiver_ticks_before) * clock_tick_us;
    console.log(
      `${"receiver".padEnd(16)} node ${String(Math.round(receiver_us / created)).padStart(5)} µs/order   (the loopback receiver's process)`,
    );
    mailer.close();
    const received = await receiver.count();
    await receiver.stop();
    if (received !== created)
      console.log(`warning: the receiver got ${received} deliveries for ${created} orders booked`);
  }
} finally {
  await bench.drop();
}

/** A process's user and system CPU in clock ticks; 0 once it has ended (its CPU is lost to the count). */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

interface ReceiverProcess {
  url: string;
  pid: number;
  count(): Promise<number>;
  stop(): Promise<void>;
}

/** A loopback webhook receiver in a child process: 204 to every POST, GET answers how many it got. */
async function startReceiverProcess(): Promise<ReceiverProcess> {
  const script = `
    const ids = new Set();
    const server = require("node:http").createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        if (request.method === "GET") return response.end(String(ids.size));
        ids.add(String(request.headers["webhook-id"]));
        response.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", () => reject(new Error("the receiver process ended")));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid!,
    count: async () => Number(await (await fetch(`${url}/count`)).text()),
    stop: async () => {
      child.kill();
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
