import { Badge, Card, Empty, Segmented, Space, Spin, Statistic, Table, Typography } from "antd";
import { lazy, Suspense, useMemo, useRef, useState } from "react";
import { ErrorResult } from "../app.tsx";
import { useLiveEvents } from "../components/live-events.ts";
import { useApi } from "../components/use-api.ts";
import { exponentOf, formatDay, formatMoney, formatNumber, minorToDecimal } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";

const Chart = lazy(() => import("../charts/chart.tsx"));

type Amount = number | string;
interface CurrencyOverview {
  currency: string;
  orders: number;
  gmv_minor: Amount;
  commission_minor: Amount;
  subsidies_minor: Amount;
  refunds: { count: number; amount_minor: Amount };
  chargebacks: { count: number; amount_minor: Amount };
  balances: Record<
    "held_minor" | "available_minor" | "in_transit_minor" | "paid_out_minor" | "debt_minor",
    Amount
  >;
  by_day: {
    day: string;
    orders: number;
    gmv_minor: Amount;
    refunds_minor: Amount;
    chargebacks_minor: Amount;
  }[];
  by_category: { category: string; lines: number; gross_minor: Amount }[];
}
interface Overview {
  from: string;
  to: string;
  days: number;
  currencies: CurrencyOverview[];
}

const refresh_interval_ms = 2_000;

/** Chart axes need numbers: major units as a float are fine for a picture, never for a figure shown as text. */
function chartValue(minor: Amount, exponent: number): number {
  return Number(minorToDecimal(String(minor), exponent));
}

export default function Dashboard() {
  const { t, lang } = useI18n();
  const [days, setDays] = useState(30);
  const { data, error, loading, reload } = useApi<Overview>("/v1/stats/overview", { days });
  const last_reload = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const live = useLiveEvents(() => {
    // Many events in a burst become one refresh at most every two seconds.
    if (pending.current !== null) return;
    const wait = Math.max(0, last_reload.current + refresh_interval_ms - Date.now());
    pending.current = setTimeout(() => {
      pending.current = null;
      last_reload.current = Date.now();
      reload();
    }, wait);
  });
  if (error !== undefined && data === undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <div style={{ display: "flex", gap: 12, alignItems: "center", flexWrap: "wrap" }}>
        <Typography.Title level={2} style={{ margin: 0, marginRight: "auto" }}>
          {t("dashboard.title")}
        </Typography.Title>
        <Badge
          status={live.connected ? "processing" : "default"}
          text={
            live.connected
              ? t("dashboard.live", { count: formatNumber(live.received, lang) })
              : t("dashboard.offline")
          }
          data-testid="live-status"
        />
        <Segmented
          aria-label={t("dashboard.period")}
          value={days}
          onChange={(value) => setDays(Number(value))}
          options={[7, 30, 90].map((value) => ({ value, label: t("dashboard.days", { days: value }) }))}
        />
      </div>
      {data === undefined ? (
        <Spin />
      ) : data.currencies.length === 0 ? (
        <Empty description={t("dashboard.empty")} />
      ) : (
        data.currencies.map((overview) => (
          <CurrencyBlock key={overview.currency} overview={overview} loading={loading} />
        ))
      )}
    </Space>
  );
}

function CurrencyBlock({ overview, loading }: { overview: CurrencyOverview; loading: boolean }) {
  const { t, lang } = useI18n();
  const money = (minor: Amount) => formatMoney(minor, overview.currency, lang);
  const exponent = exponentOf(overview.currency);
  const cards: { key: MessageKey; value: string; testid: string }[] = [
    { key: "dashboard.gmv", value: money(overview.gmv_minor), testid: "stat-gmv" },
    { key: "dashboard.orders", value: formatNumber(overview.orders, lang), testid: "stat-orders" },
    { key: "dashboard.commission", value: money(overview.commission_minor), testid: "stat-commission" },
    { key: "dashboard.subsidies", value: money(overview.subsidies_minor), testid: "stat-subsidies" },
    {
      key: "dashboard.refunds",
      value: `${money(overview.refunds.amount_minor)} · ${formatNumber(overview.refunds.count, lang)}`,
      testid: "stat-refunds",
    },
    {
      key: "dashboard.chargebacks",
      value: `${money(overview.chargebacks.amount_minor)} · ${formatNumber(overview.chargebacks.count, lang)}`,
      testid: "stat-chargebacks",
    },
    { key: "balance.held", value: money(overview.balances.held_minor), testid: "stat-held" },
    { key: "balance.available", value: money(overview.balances.available_minor), testid: "stat-available" },
    {
      key: "balance.in_transit",
      value: money(overview.balances.in_transit_minor),
      testid: "stat-in-transit",
    },
    { key: "balance.paid_out", value: money(overview.balances.paid_out_minor), testid: "stat-paid-out" },
    { key: "balance.debt", value: money(overview.balances.debt_minor), testid: "stat-debt" },
  ];
  const by_day_option = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t("dashboard.gmv"), t("dashboard.refunds"), t("dashboard.chargebacks")] },
      grid: { left: 64, right: 16, top: 40, bottom: 32 },
      xAxis: { type: "category", data: overview.by_day.map((point) => formatDay(point.day, lang)) },
      yAxis: { type: "value" },
      series: [
        {
          name: t("dashboard.gmv"),
          type: "bar",
          data: overview.by_day.map((p) => chartValue(p.gmv_minor, exponent)),
        },
        {
          name: t("dashboard.refunds"),
          type: "line",
          data: overview.by_day.map((p) => chartValue(p.refunds_minor, exponent)),
        },
        {
          name: t("dashboard.chargebacks"),
          type: "line",
          data: overview.by_day.map((p) => chartValue(p.chargebacks_minor, exponent)),
        },
      ],
    }),
    [overview, t, lang, exponent],
  );
  const by_category_option = useMemo(
    () => ({
      tooltip: { trigger: "item" },
      series: [
        {
          type: "pie",
          radius: ["35%", "70%"],
          data: overview.by_category.map((row) => ({
            name: categoryName(t, row.category),
            value: chartValue(row.gross_minor, exponent),
          })),
        },
      ],
    }),
    [overview, t, exponent],
  );
  return (
    <section aria-label={overview.currency}>
      <Typography.Title level={3} style={{ fontSize: 18 }}>
        {t("dashboard.currency", { currency: overview.currency })}
      </Typography.Title>
      <div className="stat-grid" aria-busy={loading}>
        {cards.map((card) => (
          <Card key={card.key} size="small">
            <Statistic title={t(card.key)} value={card.value} data-testid={card.testid} />
          </Card>
        ))}
      </div>
      <div
        style={{
          display: "grid",
          gridTemplateColumns: "repeat(auto-fit, minmax(320px, 1fr))",
          gap: 12,
          marginTop: 12,
        }}
      >
        <Card size="small" title={t("dashboard.by_day")}>
          <Suspense fallback={<Spin />}>
            <Chart option={by_day_option} label={t("dashboard.by_day")} />
          </Suspense>
        </Card>
        <Card size="small" title={t("dashboard.by_category")}>
          <Suspense fallback={<Spin />}>
            <Chart option={by_category_option} label={t("dashboard.by_category")} />
          </Suspense>
          <Table
            size="small"
            pagination={false}
            rowKey="category"
            dataSource={overview.by_category}
            columns={[
              {
                title: t("dashboard.category"),
                dataIndex: "category",
                render: (value: string) => categoryName(t, value),
              },
              {
                title: t("dashboard.lines"),
                dataIndex: "lines",
                align: "right",
                render: (value: number) => formatNumber(value, lang),
              },
              {
                title: t("dashboard.gross"),
                dataIndex: "gross_minor",
                align: "right",
                render: (value: Amount) => money(value),
              },
            ]}
          />
        </Card>
      </div>
    </section>
  );
}

const known_categories = new Set([
  "electronics",
  "apparel",
  "grocery",
  "beauty",
  "home",
  "books",
  "toys",
  "sports",
]);
function categoryName(t: (key: MessageKey) => string, category: string): string {
  return known_categories.has(category) ? t(`category.${category}` as MessageKey) : category;
}
