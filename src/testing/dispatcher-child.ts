// A dispatcher in a process of its own, for the crash test: it runs rounds for
// one tenant until nothing is left to do (exit 0), unless it is killed first.
// argv: tenant_id lease_ms. The database comes from DATABASE_URL or CLEARSPLIT_DATA_DIR.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dispatchTenant } from "../service/notifications/dispatcher.ts";
import { Mailer } from "../service/notifications/mailer.ts";
import { latestSeq } from "../service/notifications/stream-batch.ts";
import { openDatabase } from "../store/open.ts";

const [tenant_id, lease_text] = process.argv.slice(2);
if (tenant_id === undefined || lease_text === undefined)
  throw new Error("usage: dispatcher-child TENANT LEASE_MS");
const db = await openDatabase();
const ctx = { db, now: () => new Date() };
const deps = {
  retry_schedule_ms: [50, 50, 50, 50, 50],
  allow_private: true,
  lease_ms: Number(lease_text),
  mailer: new Mailer({
    smtp_url: null,
    from: "ClearSplit <noreply@clearsplit.test>",
    eml_dir: mkdtempSync(join(tmpdir(), "clearsplit-child-mail-")),
    tls_reject_unauthorized: true,
    backoff_ms: 50,
    lease_ms: Number(lease_text),
  }),
};
process.stdout.write("ready\n");
for (;;) {
  await dispatchTenant(ctx, tenant_id, deps);
  const latest = await latestSeq(db, tenant_id);
  const [state] = await db.query<{ behind: bigint; pending: bigint }>(
    `SELECT (SELECT count(*) FROM notification_cursors WHERE tenant_id = $1 AND last_seq < $2)::int8 AS behind,
            ((SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'pending')
              + (SELECT count(*) FROM webhook_queue WHERE tenant_id = $1))::int8 AS pending`,
    [tenant_id, latest],
  );
  if (Number(state?.behind) === 0 && Number(state?.pending) === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
deps.mailer.close();
await db.close();
process.stdout.write("done\n");
