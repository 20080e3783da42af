import { runSettlement } from "../service/settlement/settlement-run.ts";
import { openDatabase } from "../store/open.ts";

// A settlement run in its own process for the crash test: it reports each
// party as its transaction commits and, after the first, stops to be killed.
const tenant_id = process.env.SETTLE_TENANT!;
const as_of = new Date(process.env.SETTLE_AS_OF!);
const db = await openDatabase({ data_dir: process.env.SETTLE_DATA_DIR ?? null });
await runSettlement({ db, now: () => as_of }, tenant_id, {
  trigger: "cli",
  as_of,
  after_party: async (outcome, index) => {
    process.stdout.write(`${JSON.stringify({ index, status: outcome.status })}\n`);
    if (index === 0) await new Promise(() => undefined);
  },
});
