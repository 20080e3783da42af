import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer, { type Transporter } from "nodemailer";
import { assert } from "../../core/assert.ts";
import {
  digest_items_max,
  email_attempts_max,
  email_backoff_ms_max,
  mails_per_round_max,
  smtp_timeout_ms,
} from "../../core/limits.ts";
import { isLanguage } from "../../core/notifications/event-types.ts";
import { digestMailOf } from "../../core/notifications/render.ts";
import type { Queryable } from "../../store/database.ts";
import {
  claimDueMails,
  type DueMailRow,
  markMailsFailed,
  markMailsSent,
  releaseMailLeases,
} from "../../store/email-messages-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { leadTenant } from "./stream-batch.ts";

// Sends due mails through nodemailer over SMTP, or, with no SMTP server
// configured (the demo), keeps each as an .eml file in the data directory,
// where the inbox shows it. An unreachable server is retried with a growing
// delay and reported by the status route; it never stops the dispatcher.

export interface MailConfig {
  /** `smtp://` or `smtps://` URL; null keeps mails as .eml files in `eml_dir`. */
  smtp_url: string | null;
  from: string;
  eml_dir: string;
  /** Accept a server certificate that does not verify (a private relay); off by default. */
  tls_reject_unauthorized: boolean;
  /** The first retry delay; doubled per attempt up to an hour. */
  backoff_ms: number;
  lease_ms: number;
}

export function mailConfigFromEnv(env: Record<string, string | undefined> = process.env): MailConfig {
  const data_dir = env.CLEARSPLIT_DATA_DIR ?? ".clearsplit";
  return {
    smtp_url: env.CLEARSPLIT_SMTP_URL?.trim() || null,
    from: env.CLEARSPLIT_SMTP_FROM ?? "ClearSplit <notifications@clearsplit.invalid>",
    eml_dir: env.CLEARSPLIT_MAIL_DIR ?? join(data_dir, "mail"),
    tls_reject_unauthorized: env.CLEARSPLIT_SMTP_TLS_REJECT_UNAUTHORIZED !== "0",
    backoff_ms: Number(env.CLEARSPLIT_SMTP_BACKOFF_MS ?? 5_000),
    lease_ms: 120_000,
  };
}

export class Mailer {
  private readonly transport: Transporter;
  private readonly keeper: Transporter;

  constructor(readonly config: MailConfig) {
    assert(config.backoff_ms >= 1, "mail backoff must be positive");
    this.keeper = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
    this.transport =
      config.smtp_url === null
        ? this.keeper
        : nodemailer.createTransport(
            {
              url: config.smtp_url,
              connectionTimeout: smtp_timeout_ms,
              greetingTimeout: smtp_timeout_ms,
              socketTimeout: smtp_timeout_ms * 3,
              // TLS options apply to STARTTLS and to implicit TLS (smtps://) alike.
              tls: { rejectUnauthorized: config.tls_reject_unauthorized },
            } as never,
            { from: config.from },
          );
  }

  get mode(): "smtp" | "eml" {
    return this.config.smtp_url === null ? "eml" : "smtp";
  }

  /** Sends one mail; returns how it left: a Message-ID, or the .eml file it was kept in. */
  async send(mail: MailOut): Promise<{ message_id: string; eml_file: string | null }> {
    const message = {
      from: this.config.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: `<${mail.id}@clearsplit>`,
      headers: { "Content-Language": mail.language, "X-ClearSplit-Type": mail.type },
    };
    if (this.mode === "smtp") {
      const info = await this.transport.sendMail(message);
      return { message_id: String(info.messageId ?? message.messageId), eml_file: null };
    }
    const info = await this.keeper.sendMail(message);
    await mkdir(this.config.eml_dir, { recursive: true });
    const eml_file = `${mail.id}.eml`;
    await writeFile(join(this.config.eml_dir, eml_file), info.message as Buffer);
    return { message_id: message.messageId, eml_file };
  }

  close(): void {
    this.transport.close();
  }
}

export interface MailOut {
  id: string;
  to: string;
  language: string;
  type: string;
  subject: string;
  text: string;
  html: string;
}

type DueMail = DueMailRow;

async function claimMails(tx: Queryable, tenant_id: string, now: Date, lease_ms: number): Promise<DueMail[]> {
  if (!(await leadTenant(tx, tenant_id))) return [];
  return claimDueMails(tx, tenant_id, now, digest_items_max, new Date(now.getTime() + lease_ms));
}

/** Groups due rows into mails: one per event row, one per user for all its digest rows. */
export function mailsOf(rows: readonly DueMail[]): { out: MailOut; rows: DueMail[] }[] {
  const mails: { out: MailOut; rows: DueMail[] }[] = [];
  const digests = new Map<string, DueMail[]>();
  for (const row of rows) {
    if (row.kind === "digest") digests.set(row.user_id, [...(digests.get(row.user_id) ?? []), row]);
    else
      mails.push({
        out: {
          id: row.id,
          to: row.to_address,
          language: row.language,
          type: row.type,
          subject: row.subject,
          text: row.text_body,
          html: row.html_body,
        },
        rows: [row],
      });
  }
  for (const group of digests.values()) {
    const first = group[0]!;
    const language = isLanguage(first.language) ? first.language : "zh-CN";
    const digest = digestMailOf(
      group.map((row) => ({ title: row.subject, body: firstParagraph(row.text_body) })),
      language,
    );
    mails.push({
      out: {
        id: first.id,
        to: first.to_address,
        language,
        type: "digest",
        subject: digest.subject,
        text: digest.text,
        html: digest.html,
      },
      rows: group,
    });
  }
  return mails.slice(0, mails_per_round_max);
}

function firstParagraph(text: string): string {
  return text.split("\n\n")[0] ?? text;
}

type MailResult = { ok: true; message_id: string; eml_file: string | null } | { ok: false; error: string };

async function recordMails(
  tx: Queryable,
  tenant_id: string,
  mails: readonly { rows: DueMail[] }[],
  results: readonly MailResult[],
  now: Date,
  config: MailConfig,
): Promise<void> {
  for (let i = 0; i < mails.length; i++) {
    const result = results[i]!;
    const ids = mails[i]!.rows.map((row) => row.id);
    if (result.ok) {
      const status = result.eml_file === null ? "sent" : "kept";
      await markMailsSent(
        tx,
        tenant_id,
        ids,
        { status, message_id: result.message_id, eml_file: result.eml_file },
        now,
      );
      continue;
    }
    const attempts = mails[i]!.rows[0]!.attempts + 1;
    const delay_ms = Math.min(config.backoff_ms * 2 ** Math.min(attempts - 1, 20), email_backoff_ms_max);
    await markMailsFailed(
      tx,
      tenant_id,
      ids,
      {
        error: result.error,
        next_attempt_at: new Date(now.getTime() + delay_ms),
        attempts_max: email_attempts_max,
      },
      now,
    );
  }
}

/** One mail round for a tenant; returns how many mails it tried. */
export async function sendDueMails(ctx: ServiceContext, tenant_id: string, mailer: Mailer): Promise<number> {
  const rows = await inTransaction(ctx.db, (tx) =>
    claimMails(tx, tenant_id, ctx.now(), mailer.config.lease_ms),
  );
  if (rows.length === 0) return 0;
  const planned = mailsOf(rows);
  const results: MailResult[] = [];
  for (const mail of planned) {
    try {
      results.push({ ok: true, ...(await mailer.send(mail.out)) });
    } catch (error) {
      results.push({ ok: false, error: error instanceof Error ? error.message : String(error) });
      // The server is likely down: one failure per round, not one timeout per mail.
      break;
    }
  }
  const mails = planned.slice(0, results.length);
  const now = ctx.now();
  await inTransaction(ctx.db, (tx) => recordMails(tx, tenant_id, mails, results, now, mailer.config));
  // Rows claimed beyond this round's mails wait for their lease to lapse; release them now.
  const sent = new Set(mails.flatMap((mail) => mail.rows.map((row) => row.id)));
  const left = rows.filter((row) => !sent.has(row.id)).map((row) => row.id);
  if (left.length > 0) await releaseMailLeases(ctx.db, tenant_id, left);
  return mails.length;
}
