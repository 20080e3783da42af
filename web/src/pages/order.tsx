import { Card, Descriptions, Space, Spin, Table, Tabs, Typography } from "antd";
import { useMemo } from "react";
import { isNotFound } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Money } from "../components/money.tsx";
import { NotFound } from "../components/not-found.tsx";
import { useApi } from "../components/use-api.ts";
import { VerifyRecord } from "../components/verify-record.tsx";
import { formatDateTime, formatMoney, formatPercent } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { type OrderSummary, stateTag } from "./orders.tsx";
import type { PageProps } from "./registry.ts";

type Amount = number | string;
interface Leg {
  party_id: string;
  role: string;
  amount_minor: Amount;
  rule_id: string;
  line_id?: string;
  basis_minor?: Amount;
  rate_bp?: number;
  note?: string;
}
interface Refund {
  refund_id: string;
  kind: "refund" | "chargeback";
  amount_minor: Amount;
  before_release: boolean;
  transaction_id: string;
  created_at: string;
  reversal: { legs: Leg[]; explanation: string[] };
}
interface Transaction {
  id: string;
  kind: string;
  effective_at: string;
  recorded_at: string;
  entries: { account_id: string; amount_minor: Amount; currency: string }[];
}
interface OrderDetail extends OrderSummary {
  completed_at: string | null;
  policy_hash: string;
  legs: Leg[];
  explanation: string[];
  flags: string[];
  refunds: Refund[];
  transactions: Transaction[];
}

export default function OrderPage({ params }: PageProps) {
  const { t, lang } = useI18n();
  const id = params.id!;
  const { data: order, error } = useApi<OrderDetail>(`/v1/orders/${encodeURIComponent(id)}`);
  if (error !== undefined) return isNotFound(error) ? <NotFound /> : <ErrorResult error={error} />;
  if (order === undefined) return <Spin />;
  const money = (minor: Amount) => <Money minor={minor} currency={order.currency} />;
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("order.title", { id: order.id })}
      </Typography.Title>
      <Card size="small">
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} data-testid="order-summary">
          <Descriptions.Item label={t("order.merchant")}>
            <Link href={`/parties/${encodeURIComponent(order.merchant_id)}`}>{order.merchant_id}</Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("order.paid")}>{money(order.paid_minor)}</Descriptions.Item>
          <Descriptions.Item label={t("order.paid_at")}>
            {formatDateTime(order.paid_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("order.state")}>
            {stateTag(t, order.state)}
            {order.refund_state !== "none" && stateTag(t, order.refund_state)}
          </Descriptions.Item>
          <Descriptions.Item label={t("order.refunded")}>{money(order.refunded_minor)}</Descriptions.Item>
          <Descriptions.Item label={t("order.completed_at")}>
            {formatDateTime(order.completed_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("order.releasable_at")}>
            {formatDateTime(order.releasable_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("order.released_at")}>
            {formatDateTime(order.released_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("order.policy")}>
            <Link href={`/policies/${order.policy_hash}`}>
              <code>{order.policy_hash.slice(0, 12)}…</code>
            </Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("order.settlement")}>{t(settlementKey(order))}</Descriptions.Item>
        </Descriptions>
        <div style={{ marginTop: 8 }}>
          <Typography.Text strong>{t("order.verify_split")}</Typography.Text>
          <VerifyRecord record_id={order.transaction_id} label={order.id} />
        </div>
      </Card>
      <Tabs
        items={[
          { key: "split", label: t("order.split"), children: <SplitTab order={order} /> },
          {
            key: "refunds",
            label: `${t("order.refunds")} (${order.refunds.length})`,
            children: <RefundsTab order={order} />,
          },
          { key: "journal", label: t("order.journal"), children: <JournalTab order={order} /> },
        ]}
      />
    </Space>
  );
}

function settlementKey(order: OrderDetail): MessageKey {
  if (order.released_at !== null) return "order.settlement_released";
  if (order.releasable_at !== null) return "order.settlement_window";
  return "order.settlement_held";
}

function legColumns(t: (key: MessageKey) => string, lang: "zh-CN" | "zh-TW" | "en", currency: string) {
  return [
    {
      title: t("leg.party"),
      dataIndex: "party_id",
      render: (id: string) => <Link href={`/parties/${encodeURIComponent(id)}`}>{id}</Link>,
    },
    { title: t("leg.role"), dataIndex: "role", render: (role: string) => roleName(t, role) },
    { title: t("leg.rule"), dataIndex: "rule_id" },
    { title: t("leg.line"), dataIndex: "line_id", render: (value?: string) => value ?? "—" },
    {
      title: t("leg.basis"),
      dataIndex: "basis_minor",
      align: "right" as const,
      render: (value?: Amount) => (value === undefined ? "—" : formatMoney(value, currency, lang)),
    },
    {
      title: t("leg.rate"),
      dataIndex: "rate_bp",
      align: "right" as const,
      render: (value?: number) => (value === undefined ? "—" : formatPercent(value, lang)),
    },
    {
      title: t("leg.amount"),
      dataIndex: "amount_minor",
      align: "right" as const,
      render: (value: Amount) => <Money minor={value} currency={currency} />,
    },
    { title: t("leg.explanation"), dataIndex: "note", render: (value?: string) => value ?? "" },
  ];
}

const party_roles = new Set(["platform", "merchant", "supplier", "referrer", "psp", "tax", "logistics"]);
function roleName(t: (key: MessageKey) => string, role: string): string {
  return party_roles.has(role) ? t(`party_kind.${role}` as MessageKey) : role;
}

function SplitTab({ order }: { order: OrderDetail }) {
  const { t, lang } = useI18n();
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title={t("order.flow")}>
        <SplitFlow order={order} />
      </Card>
      <div data-testid="split-table">
        <Table<Leg>
          size="small"
          rowKey={(leg) => `${leg.party_id}|${leg.rule_id}|${leg.line_id ?? ""}`}
          dataSource={order.legs}
          pagination={false}
          scroll={{ x: 900 }}
          columns={legColumns(t, lang, order.currency)}
          summary={() => (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0} colSpan={6}>
                {t("leg.total")}
              </Table.Summary.Cell>
              <Table.Summary.Cell index={6} align="right">
                <Money
                  minor={order.legs.reduce((sum, leg) => sum + BigInt(leg.amount_minor), 0n)}
                  currency={order.currency}
                />
              </Table.Summary.Cell>
              <Table.Summary.Cell index={7} />
            </Table.Summary.Row>
          )}
        />
      </div>
      {order.explanation.length > 0 && (
        <Card size="small" title={t("order.explanation")}>
          <ul style={{ margin: 0 }}>
            {order.explanation.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </Card>
      )}
    </Space>
  );
}

function RefundsTab({ order }: { order: OrderDetail }) {
  const { t, lang } = useI18n();
  if (order.refunds.length === 0)
    return <Typography.Text type="secondary">{t("order.no_refunds")}</Typography.Text>;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      {order.refunds.map((refund) => (
        <Card
          key={refund.refund_id}
          size="small"
          title={`${t(refund.kind === "chargeback" ? "refund.chargeback" : "refund.refund")} ${refund.refund_id} · ${formatMoney(refund.amount_minor, order.currency, lang)}`}
          extra={<VerifyRecord record_id={refund.transaction_id} label={refund.refund_id} />}
        >
          <Typography.Paragraph type="secondary">
            {formatDateTime(refund.created_at, lang)} ·{" "}
            {t(refund.before_release ? "refund.from_held" : "refund.from_available")}
          </Typography.Paragraph>
          <Table<Leg>
            size="small"
            rowKey={(leg) => `${leg.party_id}|${leg.rule_id}|${leg.line_id ?? ""}`}
            dataSource={refund.reversal.legs}
            pagination={false}
            scroll={{ x: 900 }}
            columns={legColumns(t, lang, order.currency)}
          />
        </Card>
      ))}
    </Space>
  );
}

function JournalTab({ order }: { order: OrderDetail }) {
  const { t, lang } = useI18n();
  if (order.transactions.length === 0)
    return <Typography.Text type="secondary">{t("order.journal_hidden")}</Typography.Text>;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      {order.transactions.map((transaction) => (
        <Card
          key={transaction.id}
          size="small"
          title={`${t(`kind.${transaction.kind}` as MessageKey)} · ${formatDateTime(transaction.effective_at, lang)}`}
          extra={<VerifyRecord record_id={transaction.id} label={transaction.id} />}
        >
          <Typography.Text type="secondary">
            <code>{transaction.id}</code>
          </Typography.Text>
          <Table
            size="small"
            rowKey={(entry) => `${entry.account_id}|${entry.amount_minor}`}
            dataSource={transaction.entries}
            pagination={false}
            columns={[
              {
                title: t("entry.account"),
                dataIndex: "account_id",
                render: (id: string) => <code>{id}</code>,
              },
              {
                title: t("entry.debit_credit"),
                dataIndex: "amount_minor",
                align: "right",
                render: (value: Amount, entry) => <Money minor={value} currency={entry.currency} />,
              },
            ]}
          />
        </Card>
      ))}
    </Space>
  );
}

/**
 * The flow picture: the amount paid on the left, an arrow to each party with a
 * bar as wide as its share. Plain HTML, so the figures are text a screen reader
 * and a phone read like the table.
 */
function SplitFlow({ order }: { order: OrderDetail }) {
  const { t, lang } = useI18n();
  const parties = useMemo(() => {
    const by_party = new Map<string, { amount: bigint; role: string }>();
    for (const leg of order.legs) {
      const entry = by_party.get(leg.party_id) ?? { amount: 0n, role: leg.role };
      entry.amount += BigInt(leg.amount_minor);
      by_party.set(leg.party_id, entry);
    }
    return [...by_party].sort((a, b) => (a[1].amount > b[1].amount ? -1 : 1));
  }, [order]);
  const paid = BigInt(order.paid_minor);
  return (
    <div className="flow" data-testid="split-flow">
      <div className="flow-source">
        <div>{t("order.flow_paid")}</div>
        <strong>{formatMoney(order.paid_minor, order.currency, lang)}</strong>
      </div>
      <ul className="flow-targets">
        {parties.map(([party, { amount, role }]) => {
          // Per mille of the paid amount, by integer arithmetic; only the bar's width uses it.
          const share = paid > 0n ? Number((amount * 1000n) / paid) / 10 : 0;
          return (
            <li key={party}>
              <span className="flow-arrow" aria-hidden="true">
                →
              </span>
              <span className="flow-party">
                <Link href={`/parties/${encodeURIComponent(party)}`}>{party}</Link> · {roleName(t, role)}
              </span>
              <span className="flow-bar" style={{ width: `${Math.max(share, 0.5)}%` }} />
              <span className="flow-amount">
                {formatMoney(amount.toString(), order.currency, lang)} ({share.toFixed(1)}%)
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
