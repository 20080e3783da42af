import type { Role } from "../auth/roles.ts";
import type { EventType } from "../event-catalogue.ts";

// The event types worth telling people about, who is told by default, and in
// which words. Other capabilities add their types here as they land; a type
// that is not listed still reaches the platform administrators' inboxes with
// the generic template, so a new event is never silently dropped.

export const languages = ["zh-CN", "zh-TW", "en"] as const;
export type Language = (typeof languages)[number];

/** How a user wants an event type: at once in the inbox, by e-mail, both, once a day, or not at all. */
export const deliveries = ["inbox", "email", "both", "digest", "none"] as const;
export type Delivery = (typeof deliveries)[number];

export interface Template {
  /** `{field}` is replaced by the payload's field; `{field|money}` formats minor units with `currency`. */
  title: string;
  body: string;
}

export interface EventTypeSpec {
  type: EventType | string;
  /** Platform roles told by default (party-scoped roles are told only of their own parties' events). */
  platform_roles: readonly Role[];
  platform_default: Delivery;
  /** How the users of the event's parties are told by default; "none" when they are not. */
  party_default: Delivery;
  /** Whether a webhook endpoint may subscribe to it. */
  webhook: boolean;
  templates: Readonly<Record<Language, Template>>;
}

const finance_roles: readonly Role[] = ["platform_admin", "finance"];
const audit_roles: readonly Role[] = ["platform_admin", "reviewer", "auditor"];

function spec(
  type: EventType,
  platform_roles: readonly Role[],
  platform_default: Delivery,
  party_default: Delivery,
  templates: Record<Language, Template>,
): EventTypeSpec {
  return { type, platform_roles, platform_default, party_default, webhook: true, templates };
}

const t = (en: Template, zh_cn: Template, zh_tw: Template): Record<Language, Template> => ({
  en,
  "zh-CN": zh_cn,
  "zh-TW": zh_tw,
});

const specs: readonly EventTypeSpec[] = [
  spec(
    "order.booked",
    finance_roles,
    "none",
    "inbox",
    t(
      {
        title: "Order {order_id} split",
        body: "Order {order_id} was paid ({paid_minor|money}) and split; your share is held until the return window closes.",
      },
      {
        title: "订单 {order_id} 已分账",
        body: "订单 {order_id} 已支付（{paid_minor|money}）并完成分账，您的份额在退货期结束前处于冻结状态。",
      },
      {
        title: "訂單 {order_id} 已分帳",
        body: "訂單 {order_id} 已支付（{paid_minor|money}）並完成分帳，您的份額在退貨期結束前處於凍結狀態。",
      },
    ),
  ),
  spec(
    "order.refunded",
    finance_roles,
    "digest",
    "both",
    t(
      {
        title: "Refund on order {order_id}",
        body: "A refund of {amount_minor|money} was booked on order {order_id}; the split shares were reversed in proportion.",
      },
      {
        title: "订单 {order_id} 发生退款",
        body: "订单 {order_id} 退款 {amount_minor|money}，各方分账份额已按比例冲回。",
      },
      {
        title: "訂單 {order_id} 發生退款",
        body: "訂單 {order_id} 退款 {amount_minor|money}，各方分帳份額已按比例沖回。",
      },
    ),
  ),
  spec(
    "order.charged_back",
    finance_roles,
    "both",
    "both",
    t(
      {
        title: "Chargeback on order {order_id}",
        body: "A chargeback of {amount_minor|money} was booked on order {order_id}.",
      },
      { title: "订单 {order_id} 发生拒付", body: "订单 {order_id} 发生拒付 {amount_minor|money}。" },
      { title: "訂單 {order_id} 發生拒付", body: "訂單 {order_id} 發生拒付 {amount_minor|money}。" },
    ),
  ),
  spec(
    "order.completed",
    finance_roles,
    "none",
    "none",
    t(
      {
        title: "Order {order_id} completed",
        body: "Order {order_id} was completed; its funds are released after the return window.",
      },
      { title: "订单 {order_id} 已完成", body: "订单 {order_id} 已完成，退货期结束后资金解冻。" },
      { title: "訂單 {order_id} 已完成", body: "訂單 {order_id} 已完成，退貨期結束後資金解凍。" },
    ),
  ),
  spec(
    "order.released",
    finance_roles,
    "none",
    "digest",
    t(
      {
        title: "Funds of order {order_id} released",
        body: "The held shares of order {order_id} are now available for settlement.",
      },
      { title: "订单 {order_id} 资金已解冻", body: "订单 {order_id} 的冻结份额已转为可结算。" },
      { title: "訂單 {order_id} 資金已解凍", body: "訂單 {order_id} 的凍結份額已轉為可結算。" },
    ),
  ),
  spec(
    "payout.created",
    finance_roles,
    "inbox",
    "inbox",
    t(
      {
        title: "Payout {payout_id} created",
        body: "A payout of {amount_minor|money} was created and is on its way.",
      },
      { title: "付款 {payout_id} 已创建", body: "一笔 {amount_minor|money} 的付款已创建，正在处理中。" },
      { title: "付款 {payout_id} 已建立", body: "一筆 {amount_minor|money} 的付款已建立，正在處理中。" },
    ),
  ),
  spec(
    "payout.carried_over",
    finance_roles,
    "none",
    "digest",
    t(
      {
        title: "Payout carried over",
        body: "{amount_minor|money} is below the minimum payout; it waits for the next cycle.",
      },
      { title: "付款顺延", body: "{amount_minor|money} 低于最低付款金额，将顺延至下一周期。" },
      { title: "付款順延", body: "{amount_minor|money} 低於最低付款金額，將順延至下一週期。" },
    ),
  ),
  spec(
    "payout.netted",
    finance_roles,
    "none",
    "inbox",
    t(
      {
        title: "Payout netted against debt",
        body: "{netted_minor|money} of what was due went to paying your debt; nothing was paid out this cycle.",
      },
      { title: "付款已抵扣欠款", body: "本期应付的 {netted_minor|money} 已用于抵扣欠款，本期无付款。" },
      { title: "付款已抵扣欠款", body: "本期應付的 {netted_minor|money} 已用於抵扣欠款，本期無付款。" },
    ),
  ),
  spec(
    "payout.confirmed",
    finance_roles,
    "inbox",
    "both",
    t(
      {
        title: "Payout {payout_id} confirmed",
        body: "The payout of {amount_minor|money} was confirmed by the bank.",
      },
      { title: "付款 {payout_id} 已到账", body: "{amount_minor|money} 的付款已由银行确认。" },
      { title: "付款 {payout_id} 已入帳", body: "{amount_minor|money} 的付款已由銀行確認。" },
    ),
  ),
  spec(
    "payout.failed",
    finance_roles,
    "both",
    "both",
    t(
      {
        title: "Payout {payout_id} failed",
        body: "The payout of {amount_minor|money} failed; the funds are available again.",
      },
      { title: "付款 {payout_id} 失败", body: "{amount_minor|money} 的付款失败，资金已退回可用余额。" },
      { title: "付款 {payout_id} 失敗", body: "{amount_minor|money} 的付款失敗，資金已退回可用餘額。" },
    ),
  ),
  spec(
    "settlement.run_finished",
    finance_roles,
    "both",
    "none",
    t(
      {
        title: "Settlement run {run_date} finished",
        body: "Settlement run {run_id} of {run_date} finished: {parties_due} parties were due.",
      },
      {
        title: "{run_date} 结算批次已完成",
        body: "{run_date} 的结算批次 {run_id} 已完成，共 {parties_due} 个应结算方。",
      },
      {
        title: "{run_date} 結算批次已完成",
        body: "{run_date} 的結算批次 {run_id} 已完成，共 {parties_due} 個應結算方。",
      },
    ),
  ),
  spec(
    "reconciliation.exception",
    finance_roles,
    "both",
    "none",
    t(
      {
        title: "Reconciliation exceptions in a {provider} bill",
        body: "The {provider} bill import {import_id} has {exceptions} rows that do not match the ledger.",
      },
      {
        title: "{provider} 账单对账异常",
        body: "{provider} 账单导入 {import_id} 中有 {exceptions} 行与账本不符。",
      },
      {
        title: "{provider} 帳單對帳異常",
        body: "{provider} 帳單匯入 {import_id} 中有 {exceptions} 行與帳本不符。",
      },
    ),
  ),
  spec(
    "audit.case_opened",
    audit_roles,
    "both",
    "none",
    t(
      {
        title: "Audit case {case_id} opened",
        body: "An audit case was opened on order {order_id}; its funds are held until it is decided.",
      },
      { title: "审核案件 {case_id} 已立案", body: "订单 {order_id} 已立审核案件，结案前资金暂停解冻。" },
      { title: "審核案件 {case_id} 已立案", body: "訂單 {order_id} 已立審核案件，結案前資金暫停解凍。" },
    ),
  ),
  spec(
    "audit.case_decided",
    audit_roles,
    "inbox",
    "both",
    t(
      {
        title: "Audit case {case_id} decided",
        body: "Audit case {case_id} on order {order_id} was decided: {state}.",
      },
      {
        title: "审核案件 {case_id} 已结案",
        body: "订单 {order_id} 的审核案件 {case_id} 已结案：{state}。",
      },
      {
        title: "審核案件 {case_id} 已結案",
        body: "訂單 {order_id} 的審核案件 {case_id} 已結案：{state}。",
      },
    ),
  ),
  spec(
    "dispute.opened",
    audit_roles,
    "both",
    "both",
    t(
      { title: "Dispute {dispute_id} opened", body: "A dispute was opened on order {order_id}." },
      { title: "争议 {dispute_id} 已提出", body: "订单 {order_id} 有新的争议。" },
      { title: "爭議 {dispute_id} 已提出", body: "訂單 {order_id} 有新的爭議。" },
    ),
  ),
  spec(
    "dispute.answered",
    audit_roles,
    "inbox",
    "both",
    t(
      {
        title: "Dispute {dispute_id} answered",
        body: "The dispute on order {order_id} was answered: {state}.",
      },
      { title: "争议 {dispute_id} 已答复", body: "订单 {order_id} 的争议已得到答复：{state}。" },
      { title: "爭議 {dispute_id} 已答覆", body: "訂單 {order_id} 的爭議已得到答覆：{state}。" },
    ),
  ),
  spec(
    "report.ready",
    finance_roles,
    "both",
    "both",
    t(
      {
        title: "Report {report_name} is ready",
        body: "The scheduled report {report_name} for {period_from} to {period_to} ({format}) is ready: {download}",
      },
      {
        title: "报表 {report_name} 已生成",
        body: "定时报表 {report_name}（{period_from} 至 {period_to}，{format}）已生成，下载：{download}",
      },
      {
        title: "報表 {report_name} 已產生",
        body: "定時報表 {report_name}（{period_from} 至 {period_to}，{format}）已產生，下載：{download}",
      },
    ),
  ),
  spec(
    "party.updated",
    ["platform_admin"],
    "none",
    "inbox",
    t(
      {
        title: "Settlement profile updated",
        body: "The settlement profile of {party_id} changed (version {version}).",
      },
      { title: "结算资料已更新", body: "{party_id} 的结算资料已变更（版本 {version}）。" },
      { title: "結算資料已更新", body: "{party_id} 的結算資料已變更（版本 {version}）。" },
    ),
  ),
  spec(
    "webhook_endpoint.disabled",
    ["platform_admin"],
    "both",
    "both",
    t(
      { title: "Webhook endpoint disabled", body: "The webhook endpoint {url} was disabled: {reason}." },
      { title: "Webhook 端点已停用", body: "Webhook 端点 {url} 已停用：{reason}。" },
      { title: "Webhook 端點已停用", body: "Webhook 端點 {url} 已停用：{reason}。" },
    ),
  ),
  spec(
    "webhook_delivery.dead_lettered",
    ["platform_admin"],
    "both",
    "both",
    t(
      {
        title: "Webhook delivery given up",
        body: "Event {event_type} ({message_id}) could not be delivered to {url} after {attempts} attempts; it can be retried by hand.",
      },
      {
        title: "Webhook 投递已放弃",
        body: "事件 {event_type}（{message_id}）在 {attempts} 次尝试后仍无法投递到 {url}，可手动重试。",
      },
      {
        title: "Webhook 投遞已放棄",
        body: "事件 {event_type}（{message_id}）在 {attempts} 次嘗試後仍無法投遞到 {url}，可手動重試。",
      },
    ),
  ),
];

/** The template of a type nobody has described yet. */
const generic: Record<Language, Template> = t(
  { title: "Event {type}", body: "Something happened: {type}." },
  { title: "事件 {type}", body: "发生了事件：{type}。" },
  { title: "事件 {type}", body: "發生了事件：{type}。" },
);

/** The test notification (`POST /v1/notifications/test`). */
export const test_templates: Record<Language, Template> = t(
  {
    title: "Test notification",
    body: "This is a test notification from ClearSplit. If you can read it, this channel works.",
  },
  { title: "测试通知", body: "这是一条来自 ClearSplit 的测试通知。能看到它，说明此渠道工作正常。" },
  { title: "測試通知", body: "這是一則來自 ClearSplit 的測試通知。能看到它，表示此管道運作正常。" },
);

/** Types the dispatcher never tells about: its own bookkeeping on the stream. */
export const internal_type_prefix = "inbox.";

export const event_types: ReadonlyMap<string, EventTypeSpec> = new Map(specs.map((s) => [s.type, s]));

/** The spec of a type; an unknown type goes to the platform administrators' inboxes, generically worded. */
export function eventTypeSpec(type: string): EventTypeSpec {
  return (
    event_types.get(type) ?? {
      type,
      platform_roles: ["platform_admin"],
      platform_default: "inbox",
      party_default: "none",
      webhook: false,
      templates: generic,
    }
  );
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (languages as readonly string[]).includes(value);
}

export function isDelivery(value: unknown): value is Delivery {
  return typeof value === "string" && (deliveries as readonly string[]).includes(value);
}
