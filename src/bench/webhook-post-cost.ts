import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { webhookHeaders } from "../core/notifications/webhook-signature.ts";
import { postWebhook } from "../service/notifications/webhook-http.ts";

// CPU per webhook POST, the HTTP path alone: `--count` signed posts of a
// body like an order.booked delivery's, `--batch` at a time (as the sender
// hands them over), to a loopback receiver in a child process. Prints this
// process's CPU and the receiver's, in µs per request. No database: the
// figures move less with other work on the machine than cpu-per-order's.
//
//   npx tsx src/bench/webhook-post-cost.ts [--count 20000] [--batch 256]

const { values } = parseArgs({
  options: { count: { type: "string", default: "20000" }, batch: { type: "string", default: "256" } },
});
const count = Number(values.count);
const batch = Number(values.batch);
if (!Number.isInteger(count) || !Number.isInteger(batch) || batch < 1 || count < batch)
  throw new Error("--count and --batch are positive integers, count >= batch");

const script = `
  let n = 0;
  const server = require("node:http").createServer((request, response) => {
    request.resume();
    request.on("end", () => { n++; response.writeHead(204).end(); });
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));`;
const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<string>((resolve) =>
  child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())),
);
const url = `http://127.0.0.1:${port}/cost`;
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = JSON.stringify({
  id: "0190f2a4-0000-7000-8000-000000000000",
  type: "order.booked",
  timestamp: new Date().toISOString(),
  sequence: 1,
  data: {
    order_id: "0190f2a4-0000-7000-8000-000000000001",
    merchant_id: "m-1",
    amount_minor: "12345",
    x: "y".repeat(600),
  },
});
const ticks = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
};
const round = async (n: number, base: number) => {
  const posts = [];
  for (let i = 0; i < n; i++) {
    const id = `msg_${base + i}`;
    const headers = webhookHeaders([secret], id, Math.floor(Date.now() / 1_000), body);
    posts.push(postWebhook(url, headers, body, true));
  }
  for (const attempt of await Promise.all(posts))
    if (attempt.status_code !== 204) throw new Error(`answer ${attempt.status_code} ${attempt.error}`);
};
await round(batch, -batch); // warm-up: connections opened, code compiled
const receiver_before = ticks(child.pid!);
const before = process.cpuUsage();
const started = performance.now();
// Four batches in flight at once, as the sender keeps them.
const lanes = Array.from({ length: 4 }, async (_, lane) => {
  for (let done = lane * batch; done < count; done += 4 * batch)
    await round(Math.min(batch, count - done), done);
});
await Promise.all(lanes);
const cpu = process.cpuUsage(before);
const receiver_us = (ticks(child.pid!) - receiver_before) * 10_000;
console.log(
  `${count} posts in batches of ${batch}: sender ${Math.round((cpu.user + cpu.system) / count)} µs/request ` +
    `(kernel ${Math.round(cpu.system / count)}), receiver ${Math.round(receiver_us / count)} µs/request, ` +
    `${Math.round(count / ((performance.now() - started) / 1_000))} requests/s`,
);
child.kill();
process.exit(0);
