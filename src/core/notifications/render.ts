import { isCurrency } from "../currency.ts";
import { notification_body_length_max, notification_title_length_max } from "../limits.ts";
import { formatMoney } from "../money.ts";
import type { Language, Template } from "./event-types.ts";

// Fills a template from an event's payload: the inbox item's title and body,
// and a mail's subject, text part and HTML part. Pure: same input, same text.

const placeholder = /\{([a-z_][a-z0-9_]{0,63})(\|money)?\}/g;

export interface Rendered {
  title: string;
  body: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

function fieldText(payload: Record<string, unknown>, field: string, money: boolean): string {
  const value = field === "type" ? payload.__type : payload[field];
  if (value === undefined || value === null) return "—";
  if (money) {
    const currency = payload.currency;
    const digits = typeof value === "bigint" ? value.toString() : String(value);
    if (isCurrency(currency) && /^-?\d{1,19}$/.test(digits)) return formatMoney(BigInt(digits), currency);
    return digits;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderTemplate(template: Template, type: string, payload: unknown): Rendered {
  const fields: Record<string, unknown> =
    payload !== null && typeof payload === "object" && !Array.isArray(payload)
      ? { ...(payload as Record<string, unknown>), __type: type }
      : { __type: type };
  const fill = (text: string) =>
    text.replace(placeholder, (_match, field: string, money: string | undefined) =>
      fieldText(fields, field, money !== undefined),
    );
  return {
    title: clip(fill(template.title), notification_title_length_max),
    body: clip(fill(template.body), notification_body_length_max),
  };
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const footers: Record<Language, string> = {
  en: "You receive this because of your ClearSplit notification preferences.",
  "zh-CN": "您收到此邮件是因为您在 ClearSplit 的通知偏好设置。",
  "zh-TW": "您收到此郵件是因為您在 ClearSplit 的通知偏好設定。",
};

/** A mail with both parts; the HTML part escapes everything that came from the payload. */
export function mailOf(rendered: Rendered, language: Language): RenderedMail {
  const footer = footers[language];
  return {
    subject: rendered.title,
    text: `${rendered.body}\n\n-- \n${footer}\n`,
    html:
      `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(rendered.title)}</title></head>` +
      `<body><h1 style="font-size:18px">${escapeHtml(rendered.title)}</h1><p>${escapeHtml(rendered.body)}</p>` +
      `<hr><p style="color:#888;font-size:12px">${escapeHtml(footer)}</p></body></html>`,
  };
}

const digest_titles: Record<Language, (count: number) => string> = {
  en: (count) => `Your daily ClearSplit digest: ${count} notifications`,
  "zh-CN": (count) => `ClearSplit 每日摘要：${count} 条通知`,
  "zh-TW": (count) => `ClearSplit 每日摘要：${count} 則通知`,
};

/** One mail listing a day's digest items, newest last. */
export function digestMailOf(items: readonly Rendered[], language: Language): RenderedMail {
  const title = digest_titles[language](items.length);
  const footer = footers[language];
  const text = items.map((item) => `* ${item.title}\n  ${item.body}`).join("\n");
  const list = items
    .map((item) => `<li><strong>${escapeHtml(item.title)}</strong><br>${escapeHtml(item.body)}</li>`)
    .join("");
  return {
    subject: title,
    text: `${title}\n\n${text}\n\n-- \n${footer}\n`,
    html:
      `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><h1 style="font-size:18px">${escapeHtml(title)}</h1><ul>${list}</ul>` +
      `<hr><p style="color:#888;font-size:12px">${escapeHtml(footer)}</p></body></html>`,
  };
}
