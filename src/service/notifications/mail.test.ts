import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { startReceiver } from "../../testing/webhook-receiver.ts";
import { createUser } from "../auth/users.ts";
import type { ServiceContext } from "../context.ts";
import { createParty } from "../ledger/accounts.ts";
import { createSavedReport, runDueReports } from "../reports/saved.ts";
import { createEndpoint } from "./endpoints.ts";
import { listInbox } from "./inbox.ts";
import { Mailer } from "./mailer.ts";
import { setPreferences } from "./preferences.ts";
import { notificationStatus } from "./status.ts";
import { dispatchUntil, emit, principal, testDeps, testMailConfig } from "./testing.ts";

// E-mail end to end: a real SMTP server on loopback (smtp-server) receives the
// mails in each user's language with text and HTML parts; with no SMTP server
// the mails are kept as .eml files and shown in the inbox; an unreachable
// server is retried with backoff and reported by the status, not lost.

let db: Database;
let ctx: ServiceContext;
let smtp: SMTPServer;
let smtp_url: string;
const received: { to: string[]; raw: string }[] = [];

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtp_url = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await db.close();
});

async function tenantWithUsers() {
  const tenant = await newTestTenant(ctx, "mail");
  await createParty(ctx, tenant, { id: "m-a", kind: "merchant", name: "Merchant A" });
  await createParty(ctx, tenant, { id: "m-b", kind: "merchant", name: "Merchant B" });
  const make = async (
    role: "merchant" | "finance",
    email: string,
    party_id: string | null,
    language: string,
  ) => {
    const user = await createUser(
      ctx,
      tenant,
      { role, party_id, email, password: "a long enough password" },
      { actor: "test", ip: null },
    );
    const who = principal(tenant, role, party_id, `user:${user.id}`);
    await setPreferences(ctx, who, { language });
    return { user, who, email };
  };
  return {
    tenant,
    en: await make("merchant", `en-${tenant}@example.com`, "m-a", "en"),
    tw: await make("merchant", `tw-${tenant}@example.com`, "m-a", "zh-TW"),
    other: await make("merchant", `b-${tenant}@example.com`, "m-b", "zh-CN"),
    finance: await make("finance", `fin-${tenant}@example.com`, null, "zh-CN"),
  };
}

const chargeback = (order_id: string, merchant: string) => ({
  type: "order.charged_back" as const,
  party_ids: [merchant],
  payload: { order_id, amount_minor: 250_075, currency: "CNY" },
});

describe("e-mail", () => {
  it("sends each user a mail in its language with text and HTML parts through a real SMTP server", async () => {
    const world = await tenantWithUsers();
    const deps = testDeps({ mailer: new Mailer(testMailConfig({ smtp_url })) });
    await emit(ctx, world.tenant, [chargeback("CB-1", "m-a")]);
    const to = (address: string) => received.find((mail) => mail.to.includes(address));
    await dispatchUntil(ctx, world.tenant, deps, () =>
      [world.en, world.tw, world.finance].every((u) => to(u.email)),
    );
    const en = await simpleParser(to(world.en.email)!.raw);
    expect(en.subject).toBe("Chargeback on order CB-1");
    expect(en.text).toContain("2,500.75 CNY");
    expect(en.html).toContain("<h1");
    expect(en.headers.get("content-language")).toBe("en");
    const tw = await simpleParser(to(world.tw.email)!.raw);
    expect(tw.subject).toBe("訂單 CB-1 發生拒付");
    expect(tw.text).toContain("發生拒付");
    expect(tw.html).toContain("訂單 CB-1");
    const zh = await simpleParser(to(world.finance.email)!.raw);
    expect(zh.subject).toBe("订单 CB-1 发生拒付");
    // Merchant B's user is never told of merchant A's chargeback.
    expect(to(world.other.email)).toBeUndefined();
  });

  it("tells a scheduled report's owner, and only its owner, that its file is ready, by inbox and e-mail", async () => {
    const world = await tenantWithUsers();
    const deps = testDeps({ mailer: new Mailer(testMailConfig({ smtp_url })) });
    const schedule = (who: typeof world.en.who, name: string) =>
      createSavedReport(
        ctx,
        { scope: { tenant_id: world.tenant, party_id: who.party_id }, actor: who.actor },
        {
          name,
          definition: {
            dataset: "entries",
            dimensions: ["kind"],
            measures: ["amount_minor"],
            period: { relative: "previous_day" },
          },
          schedule: "daily",
          schedule_format: "xlsx",
        },
      );
    const finance_report = await schedule(world.finance.who, "Daily entries (finance)");
    const merchant_report = await schedule(world.en.who, "My daily entries");
    const tomorrow = { ...ctx, now: () => new Date(Date.now() + 86_400_000) };
    expect(await runDueReports(tomorrow)).toBeGreaterThanOrEqual(2);
    // The file and its event were written together: one report.ready per run, addressed to the owner.
    const events = await db.query<{ payload: { report_id: string; user_ids: string[]; run_id: string } }>(
      "SELECT payload FROM events WHERE tenant_id = $1 AND type = 'report.ready' ORDER BY created_at",
      [world.tenant],
    );
    expect(events.map((event) => event.payload.report_id).sort()).toEqual(
      [finance_report.id, merchant_report.id].sort(),
    );
    const to = (address: string) => received.filter((mail) => mail.to.includes(address));
    await dispatchUntil(
      ctx,
      world.tenant,
      deps,
      () => to(world.finance.email).length > 0 && to(world.en.email).length > 0,
    );
    const mail = await simpleParser(to(world.finance.email)[0]!.raw);
    expect(mail.subject).toBe("报表 Daily entries (finance) 已生成");
    expect(mail.text).toContain(`/v1/reports/saved/${finance_report.id}/runs/`);
    const en = await simpleParser(to(world.en.email)[0]!.raw);
    expect(en.subject).toBe("Report My daily entries is ready");
    const inbox = await listInbox(ctx, world.en.who, {});
    expect(inbox.items.map((item) => item.type)).toEqual(["report.ready"]);
    // The other user of the same merchant and the other merchant are not told of the run.
    expect(to(world.tw.email)).toEqual([]);
    expect((await listInbox(ctx, world.tw.who, {})).items).toEqual([]);
    expect(to(world.other.email)).toEqual([]);
  });

  it("tells an endpoint's owners by e-mail, over real SMTP, when a delivery is dead-lettered", async () => {
    process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
    const receiver = await startReceiver();
    receiver.fallback = { status: 500 };
    try {
      const world = await tenantWithUsers();
      const admin_email = `admin-${world.tenant}@example.com`;
      const admin = await createUser(
        ctx,
        world.tenant,
        { role: "platform_admin", party_id: null, email: admin_email, password: "a long enough password" },
        { actor: "test", ip: null },
      );
      await setPreferences(ctx, principal(world.tenant, "platform_admin", null, `user:${admin.id}`), {
        language: "zh-CN",
      });
      const endpoint = await createEndpoint(ctx, principal(world.tenant, "platform_admin"), {
        url: `${receiver.url}/dead/${world.tenant}`,
        event_types: ["order.charged_back"],
      });
      await emit(ctx, world.tenant, [chargeback("CB-DEAD", "m-a")]);
      const deps = testDeps({
        retry_schedule_ms: [20, 20],
        mailer: new Mailer(testMailConfig({ smtp_url })),
      });
      const deadLetterMail = async () => {
        for (const candidate of received.filter((m) => m.to.includes(admin_email))) {
          const parsed = await simpleParser(candidate.raw);
          if (parsed.subject === "Webhook 投递已放弃") return parsed;
        }
        return undefined;
      };
      await dispatchUntil(ctx, world.tenant, deps, async () => (await deadLetterMail()) !== undefined);
      // Three attempts (the first and two retries), then the owners are told.
      expect(receiver.received).toHaveLength(3);
      const mail = (await deadLetterMail())!;
      expect(mail.subject).toBe("Webhook 投递已放弃");
      expect(mail.text).toContain(endpoint.url);
      expect(mail.text).toContain("3 次尝试");
      expect(mail.html).toContain("<h1");
      // A merchant's user is not told of a tenant endpoint's dead letter.
      for (const other of received.filter((m) => m.to.includes(world.en.email)))
        expect((await simpleParser(other.raw)).subject).not.toBe("Webhook delivery given up");
    } finally {
      await receiver.close();
    }
  });

  it("keeps mails as .eml files when no SMTP server is configured, and shows them in the inbox", async () => {
    const world = await tenantWithUsers();
    const config = testMailConfig();
    const deps = testDeps({ mailer: new Mailer(config) });
    await emit(ctx, world.tenant, [chargeback("CB-EML", "m-a")]);
    await dispatchUntil(ctx, world.tenant, deps, async () => {
      const inbox = await listInbox(ctx, world.en.who, {});
      return inbox.items[0]?.email?.status === "kept";
    });
    const inbox = await listInbox(ctx, world.en.who, {});
    expect(inbox.unread_count).toBe(1);
    const file = inbox.items[0]!.email!.eml_file!;
    const parsed = await simpleParser(readFileSync(join(config.eml_dir, file)));
    expect(parsed.subject).toBe("Chargeback on order CB-EML");
    expect(parsed.html).toBeTruthy();
  });

  it("retries an unreachable SMTP server with backoff, reports it in the status, and delivers once it is back", async () => {
    const world = await tenantWithUsers();
    const down = new Mailer(testMailConfig({ smtp_url: "smtp://127.0.0.1:1", backoff_ms: 50 }));
    await emit(ctx, world.tenant, [chargeback("CB-DOWN", "m-a")]);
    await dispatchUntil(ctx, world.tenant, testDeps({ mailer: down }), async () => {
      const status = await notificationStatus(ctx, world.tenant, "smtp");
      return status.email.retrying > 0 && status.email.last_error !== null;
    });
    const status = await notificationStatus(ctx, world.tenant, "smtp");
    expect(status.email.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect(status.email.failed).toBe(0);
    const up = testDeps({ mailer: new Mailer(testMailConfig({ smtp_url })) });
    await dispatchUntil(ctx, world.tenant, up, () =>
      received.some((mail) => mail.to.includes(world.en.email)),
    );
    const after = await notificationStatus(ctx, world.tenant, "smtp");
    expect(after.email.pending).toBe(0);
    expect(after.email.last_error).toBeNull();
  });

  it("honours preferences: inbox only, e-mail only, none, and a daily digest", async () => {
    const world = await tenantWithUsers();
    await setPreferences(ctx, world.en.who, {
      preferences: [{ event_type: "order.charged_back", delivery: "inbox" }],
    });
    await setPreferences(ctx, world.tw.who, {
      preferences: [{ event_type: "order.charged_back", delivery: "none" }],
    });
    await setPreferences(ctx, world.finance.who, {
      preferences: [{ event_type: "order.charged_back", delivery: "digest" }],
    });
    const deps = testDeps({ mailer: new Mailer(testMailConfig({ smtp_url })) });
    await emit(ctx, world.tenant, [chargeback("CB-P1", "m-a"), chargeback("CB-P2", "m-a")]);
    await dispatchUntil(
      ctx,
      world.tenant,
      deps,
      async () => (await listInbox(ctx, world.en.who, {})).items.length === 2,
    );
    expect(received.some((mail) => mail.to.includes(world.en.email))).toBe(false);
    expect((await listInbox(ctx, world.tw.who, {})).items).toHaveLength(0);
    expect((await listInbox(ctx, world.finance.who, {})).items).toHaveLength(0);
    const digest = await db.query<{ status: string; next_attempt_at: Date }>(
      "SELECT status, next_attempt_at FROM email_messages WHERE tenant_id = $1 AND kind = 'digest'",
      [world.tenant],
    );
    expect(digest).toHaveLength(2);
    expect(
      digest.every((row) => row.status === "pending" && row.next_attempt_at.getTime() > Date.now()),
    ).toBe(true);
    // At the next UTC midnight both go out as one mail.
    const tomorrow = digest[0]!.next_attempt_at.getTime() + 1_000;
    const later: ServiceContext = { db, now: () => new Date(tomorrow) };
    await dispatchUntil(later, world.tenant, deps, () =>
      received.some((mail) => mail.to.includes(world.finance.email)),
    );
    const mails = received.filter((mail) => mail.to.includes(world.finance.email));
    expect(mails).toHaveLength(1);
    const parsed = await simpleParser(mails[0]!.raw);
    expect(parsed.subject).toBe("ClearSplit 每日摘要：2 条通知");
    expect(parsed.text).toContain("CB-P1");
    expect(parsed.text).toContain("CB-P2");
  });
});
