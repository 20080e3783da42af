import { readBill } from "../service/reconcile/read-bill.ts";

// Reads one bill in a process of its own (the memory-bound test runs it with a small heap).
const [path, provider] = process.argv.slice(2);
const report = await readBill(path!, { provider: provider! });
process.stdout.write(`${JSON.stringify({ ...report, rss_bytes: process.memoryUsage().rss })}\n`);
