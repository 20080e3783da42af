import { Button, Card, Descriptions, Input, Popconfirm, Select, Space, Table, Tag } from "antd";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Download, Pager, PageTitle, useAction, useCursorTrail } from "../components/kit.tsx";
import { Money } from "../components/money.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime, formatMoney, formatNumber } from "../i18n/format.ts";
import { type MessageKey, type Translate, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { isPartyRole, useMe } from "../session.tsx";

// Settlement for finance: run it, see each run's summary and payout file, and
// record each payout's result (the bank paid it, or returned it).

type Amount = number | string;
interface RunSummary {
  run_id: string;
  parties_due: number;
  paid: unknown[];
  carried_over: unknown[];
  held_by_case: unknown[];
  totals: Record<string, { amount_minor: Amount; netted_minor: Amount; payouts: number }>;
}
interface Run {
  id: string;
  run_date: string;
  as_of: string;
  trigger: string;
  status: string;
  summary: RunSummary | null;
  finished_at: string | null;
}
export interface Payout {
  id: string;
  party_id: string;
  currency: string;
  state: string;
  amount_minor: Amount;
  netted_minor: Amount;
  run_id: string;
  run_date: string;
  reference: string;
  payout_account_ref: string | null;
  failure_reason: string | null;
  provider_reference: string | null;
  created_at: string;
  resolved_at: string | null;
}

const payout_states = ["in_transit", "paid_out", "failed", "carried_over", "netted"] as const;
const payout_colors: Record<string, string> = {
  in_transit: "blue",
  paid_out: "green",
  failed: "red",
  carried_over: "default",
  netted: "purple",
};

export function payoutStateTag(t: Translate, state: string) {
  return <Tag color={payout_colors[state]}>{t(`payout_state.${state}` as MessageKey)}</Tag>;
}

export default function Settlement() {
  const { t } = useI18n();
  const [tick, setTick] = useState(0);
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle>{t("settlement.title")}</PageTitle>
      <Runs key={`runs-${tick}`} onRun={() => setTick(tick + 1)} />
      <Payouts key={`payouts-${tick}`} />
    </Space>
  );
}

function Runs({ onRun }: { onRun: () => void }) {
  const { t, lang } = useI18n();
  const { busy, run } = useAction();
  const { cursor, trail, setTrail } = useCursorTrail();
  const { data, error, loading } = useApi<{ items: Run[]; next_cursor: string | null }>(
    "/v1/settlements/runs",
    {
      cursor,
      limit: 10,
    },
  );
  if (error !== undefined) return <ErrorResult error={error} />;
  const start = () =>
    void run(async () => {
      await api("/v1/settlements/runs", { method: "POST", body: {} });
      onRun();
    }, "settlement.run_done");
  return (
    <Card
      size="small"
      title={t("settlement.runs")}
      extra={
        <Popconfirm
          title={t("settlement.run_confirm")}
          onConfirm={start}
          okText={t("settlement.run")}
          cancelText={t("common.cancel")}
        >
          <Button type="primary" loading={busy} data-testid="run-settlement">
            {t("settlement.run")}
          </Button>
        </Popconfirm>
      }
    >
      <div data-testid="runs-table">
        <Table<Run>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          dataSource={data?.items ?? []}
          scroll={{ x: 800 }}
          expandable={{
            expandedRowRender: (row) => <RunDetail summary={row.summary} />,
            rowExpandable: (row) => row.summary !== null,
          }}
          columns={[
            { title: t("settlement.run_date"), dataIndex: "run_date" },
            {
              title: t("settlement.as_of"),
              dataIndex: "as_of",
              render: (value: string) => formatDateTime(value, lang),
            },
            {
              title: t("settlement.trigger"),
              dataIndex: "trigger",
              render: (value: string) => t(`settlement.trigger_${value}` as MessageKey),
            },
            {
              title: t("settlement.parties_due"),
              key: "due",
              align: "right",
              render: (_: unknown, row) => formatNumber(row.summary?.parties_due ?? 0, lang),
            },
            {
              title: t("settlement.totals"),
              key: "totals",
              render: (_: unknown, row) =>
                Object.entries(row.summary?.totals ?? {})
                  .map(([currency, total]) => formatMoney(total.amount_minor, currency, lang))
                  .join(" · ") || "—",
            },
            {
              title: t("settlement.payout_file"),
              key: "file",
              render: (_: unknown, row) => (
                <Space>
                  <Download path={`/v1/settlements/runs/${row.id}/payout-file`} query={{ format: "csv" }}>
                    CSV
                  </Download>
                  <Download path={`/v1/settlements/runs/${row.id}/payout-file`} query={{ format: "json" }}>
                    JSON
                  </Download>
                </Space>
              ),
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Card>
  );
}

function RunDetail({ summary }: { summary: RunSummary | null }) {
  const { t, lang } = useI18n();
  if (summary === null) return null;
  return (
    <Descriptions size="small" column={{ xs: 1, md: 4 }}>
      <Descriptions.Item label={t("settlement.paid")}>
        {formatNumber(summary.paid.length, lang)}
      </Descriptions.Item>
      <Descriptions.Item label={t("settlement.carried_over")}>
        {formatNumber(summary.carried_over.length, lang)}
      </Descriptions.Item>
      <Descriptions.Item label={t("settlement.held_by_case")}>
        {formatNumber(summary.held_by_case.length, lang)}
      </Descriptions.Item>
    </Descriptions>
  );
}

/** Payouts, a cursor page at a time; finance records results, a party sees its own. */
export function Payouts({ party_id }: { party_id?: string }) {
  const { t, lang } = useI18n();
  const me = useMe();
  const [state, setState] = useState<string | undefined>(undefined);
  const { cursor, trail, setTrail } = useCursorTrail();
  const { busy, run } = useAction();
  const { data, error, loading, reload } = useApi<{ items: Payout[]; next_cursor: string | null }>(
    "/v1/payouts",
    {
      party_id,
      state,
      cursor,
      limit: 50,
    },
  );
  const may_resolve = me.role === "platform_admin" || me.role === "finance";
  if (error !== undefined) return <ErrorResult error={error} />;
  const resolve = (payout: Payout, outcome: "confirm" | "fail", text: string) =>
    void run(async () => {
      await api(`/v1/payouts/${payout.id}/${outcome}`, {
        method: "POST",
        body: outcome === "confirm" ? (text ? { provider_reference: text } : {}) : { reason: text },
      });
      reload();
    }, "settlement.result_recorded");
  return (
    <Card size="small" title={t("settlement.payouts")}>
      <Space direction="vertical" style={{ width: "100%" }}>
        <Select
          aria-label={t("settlement.state")}
          placeholder={t("settlement.state")}
          allowClear
          style={{ minWidth: 180 }}
          value={state}
          onChange={(value?: string) => {
            setTrail([]);
            setState(value);
          }}
          options={payout_states.map((value) => ({ value, label: t(`payout_state.${value}` as MessageKey) }))}
        />
        <div data-testid="payouts-table">
          <Table<Payout>
            rowKey="id"
            size="small"
            loading={loading}
            pagination={false}
            dataSource={data?.items ?? []}
            scroll={{ x: 1000 }}
            columns={[
              { title: t("settlement.run_date"), dataIndex: "run_date" },
              {
                title: t("settlement.party"),
                dataIndex: "party_id",
                render: (id: string) =>
                  isPartyRole(me.role) ? id : <Link href={`/parties/${encodeURIComponent(id)}`}>{id}</Link>,
              },
              {
                title: t("settlement.amount"),
                dataIndex: "amount_minor",
                align: "right",
                render: (value: Amount, row) => <Money minor={value} currency={row.currency} />,
              },
              {
                title: t("settlement.state"),
                dataIndex: "state",
                render: (value: string) => payoutStateTag(t, value),
              },
              {
                title: t("settlement.account"),
                dataIndex: "payout_account_ref",
                render: (v: string | null) => v ?? "—",
              },
              { title: t("settlement.reference"), dataIndex: "reference" },
              {
                title: t("settlement.result"),
                key: "result",
                render: (_: unknown, row) =>
                  row.state === "in_transit" && may_resolve ? (
                    <ResolveButtons busy={busy} onResolve={(outcome, text) => resolve(row, outcome, text)} />
                  ) : (
                    (row.failure_reason ?? row.provider_reference ?? formatDateTime(row.resolved_at, lang))
                  ),
              },
            ]}
          />
        </div>
        <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
      </Space>
    </Card>
  );
}

function ResolveButtons({
  busy,
  onResolve,
}: {
  busy: boolean;
  onResolve: (outcome: "confirm" | "fail", text: string) => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  return (
    <Space wrap size={4}>
      <Input
        size="small"
        aria-label={t("settlement.result_text")}
        placeholder={t("settlement.result_text")}
        value={text}
        onChange={(event) => setText(event.target.value)}
        style={{ width: 160 }}
      />
      <Button
        size="small"
        loading={busy}
        onClick={() => onResolve("confirm", text.trim())}
        data-testid="payout-confirm"
      >
        {t("settlement.confirm")}
      </Button>
      <Button
        size="small"
        danger
        loading={busy}
        disabled={text.trim() === ""}
        onClick={() => onResolve("fail", text.trim())}
      >
        {t("settlement.fail")}
      </Button>
    </Space>
  );
}
