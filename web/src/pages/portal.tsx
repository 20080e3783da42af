import { Card, Space, Spin, Statistic, Table, Tabs, Typography } from "antd";
import { useState } from "react";
import { isNotFound } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Pager } from "../components/kit.tsx";
import { Money } from "../components/money.tsx";
import { NotFound } from "../components/not-found.tsx";
import { useApi } from "../components/use-api.ts";
import { VerifyRecord } from "../components/verify-record.tsx";
import { formatDateTime, formatMoney } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { isPartyRole, useMe } from "../session.tsx";
import { type OrderSummary, stateTag } from "./orders.tsx";
import { Disputes, Statements } from "./portal-extras.tsx";
import type { PageProps } from "./registry.ts";
import { Payouts } from "./settlement.tsx";

// The party portal: a merchant's or supplier's own balances, ledger entries and
// orders (at /portal), and the same view of any party for platform roles (at
// /parties/{id}). Every entry and order has a Verify button.

type Amount = number | string;
interface Party {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
  settlement: { cycle_days?: number; minimum_payout_minor?: number; payout_account_ref?: string };
}
interface Balance {
  currency: string;
  held_minor: Amount;
  available_minor: Amount;
  in_transit_minor: Amount;
  debt_minor: Amount;
}
interface Entry {
  transaction_id: string;
  seq: number;
  kind: string;
  purpose: string;
  amount_minor: Amount;
  currency: string;
  effective_at: string;
  order_id: string | null;
}

const page_size = 50;

export default function Portal({ params }: PageProps) {
  const me = useMe();
  const party_id = params.id ?? me.party_id;
  if (party_id === null || party_id === undefined) return <NotFound />;
  return <PartyView party_id={party_id} />;
}

function PartyView({ party_id }: { party_id: string }) {
  const { t, lang } = useI18n();
  const me = useMe();
  const own = isPartyRole(me.role) && me.party_id === party_id;
  const path = `/v1/parties/${encodeURIComponent(party_id)}`;
  const party = useApi<Party>(path);
  const balances = useApi<{ balances: Balance[] }>(`${path}/balances`);
  if (party.error !== undefined)
    return isNotFound(party.error) ? <NotFound /> : <ErrorResult error={party.error} />;
  if (party.data === undefined) return <Spin />;
  const p = party.data;
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <div>
        <Typography.Title level={2} style={{ margin: 0 }}>
          {p.name}
        </Typography.Title>
        <Typography.Text type="secondary">
          {t(`party_kind.${p.kind}` as MessageKey)} · <code>{p.id}</code>
          {p.settlement.cycle_days !== undefined &&
            ` · ${t("party.cycle", { days: p.settlement.cycle_days })}`}
        </Typography.Text>
      </div>
      {(balances.data?.balances ?? []).map((balance) => (
        <div className="stat-grid" key={balance.currency} data-testid="balances">
          {(
            [
              ["balance.held", balance.held_minor],
              ["balance.available", balance.available_minor],
              ["balance.in_transit", balance.in_transit_minor],
              ["balance.debt", balance.debt_minor],
            ] as [MessageKey, Amount][]
          ).map(([key, value]) => (
            <Card size="small" key={key}>
              <Statistic
                title={`${t(key)} (${balance.currency})`}
                value={formatMoney(value, balance.currency, lang)}
              />
            </Card>
          ))}
        </div>
      ))}
      <Tabs
        items={[
          { key: "entries", label: t("portal.entries"), children: <Entries party_id={party_id} /> },
          { key: "orders", label: t("portal.orders"), children: <PartyOrders party_id={party_id} /> },
          { key: "payouts", label: t("portal.payouts"), children: <Payouts party_id={party_id} /> },
          { key: "statements", label: t("portal.statements"), children: <Statements party_id={party_id} /> },
          ...(own ? [{ key: "disputes", label: t("portal.disputes"), children: <Disputes /> }] : []),
        ]}
      />
    </Space>
  );
}

function Entries({ party_id }: { party_id: string }) {
  const { t, lang } = useI18n();
  const [trail, setTrail] = useState<string[]>([]);
  const { data, error, loading } = useApi<{ items: Entry[]; next_cursor: string | null }>(
    `/v1/parties/${encodeURIComponent(party_id)}/entries`,
    { cursor: trail[trail.length - 1], limit: page_size },
  );
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <div data-testid="entries-table">
        <Table<Entry>
          size="small"
          loading={loading}
          rowKey={(entry) => `${entry.transaction_id}:${entry.seq}`}
          dataSource={data?.items ?? []}
          pagination={false}
          scroll={{ x: 900 }}
          columns={[
            {
              title: t("entry.effective_at"),
              dataIndex: "effective_at",
              render: (value: string) => formatDateTime(value, lang),
            },
            {
              title: t("entry.kind"),
              dataIndex: "kind",
              render: (kind: string) => t(`kind.${kind}` as MessageKey),
            },
            {
              title: t("entry.purpose"),
              dataIndex: "purpose",
              render: (purpose: string) => t(`purpose.${purpose}` as MessageKey),
            },
            {
              title: t("entry.amount"),
              dataIndex: "amount_minor",
              align: "right",
              render: (value: Amount, entry) => <Money minor={value} currency={entry.currency} />,
            },
            {
              title: t("entry.order"),
              dataIndex: "order_id",
              render: (id: string | null) =>
                id === null ? "—" : <Link href={`/orders/${encodeURIComponent(id)}`}>{id}</Link>,
            },
            {
              title: t("verify.column"),
              key: "verify",
              render: (_: unknown, entry) => (
                <VerifyRecord record_id={entry.transaction_id} label={entry.transaction_id} />
              ),
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Space>
  );
}

function PartyOrders({ party_id }: { party_id: string }) {
  const { t, lang } = useI18n();
  const [trail, setTrail] = useState<string[]>([]);
  const { data, error, loading } = useApi<{ items: OrderSummary[]; next_cursor: string | null }>(
    "/v1/orders",
    {
      party_id,
      cursor: trail[trail.length - 1],
      limit: page_size,
    },
  );
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <div data-testid="party-orders-table">
        <Table<OrderSummary>
          size="small"
          loading={loading}
          rowKey="id"
          dataSource={data?.items ?? []}
          pagination={false}
          scroll={{ x: 800 }}
          columns={[
            {
              title: t("order.id"),
              dataIndex: "id",
              render: (id: string) => <Link href={`/orders/${encodeURIComponent(id)}`}>{id}</Link>,
            },
            {
              title: t("order.paid"),
              dataIndex: "paid_minor",
              align: "right",
              render: (value: Amount, row) => <Money minor={value} currency={row.currency} />,
            },
            {
              title: t("order.paid_at"),
              dataIndex: "paid_at",
              render: (value: string) => formatDateTime(value, lang),
            },
            { title: t("order.state"), dataIndex: "state", render: (state: string) => stateTag(t, state) },
            {
              title: t("verify.column"),
              key: "verify",
              render: (_: unknown, row) => <VerifyRecord record_id={row.transaction_id} label={row.id} />,
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Space>
  );
}
