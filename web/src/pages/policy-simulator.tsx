import { Alert, Button, Card, DatePicker, Input, Space, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { api, errorText } from "../api/client.ts";

import { Money } from "../components/money.tsx";
import { formatNumber } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";

// The policy simulator: re-run a (draft) policy over a past period, read-only,
// and show old share, new share and the difference per merchant and party,
// so whoever publishes sees what it would change first.

type Amount = number | string;
interface Simulation {
  orders: number;
  orders_failed: number;
  failures: { order_id: string; code: string }[];
  items: {
    merchant_id: string;
    party_id: string;
    currency: string;
    old_minor: Amount;
    new_minor: Amount;
    difference_minor: Amount;
  }[];
}

export function PolicySimulator({ policy_id }: { policy_id: string }) {
  const { t, lang } = useI18n();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([
    dayjs().subtract(30, "day").startOf("day"),
    dayjs().startOf("day"),
  ]);
  const [merchant, setMerchant] = useState("");
  const [result, setResult] = useState<Simulation | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const body = {
    from: range[0].format("YYYY-MM-DD"),
    // The picker's last day is included; the API's `to` is the day after it.
    to: range[1].add(1, "day").format("YYYY-MM-DD"),
    ...(merchant.trim() ? { merchant_id: merchant.trim() } : {}),
  };
  const simulate = async () => {
    setBusy(true);
    setFailure(null);
    try {
      setResult(
        await api<Simulation>(`/v1/policies/${encodeURIComponent(policy_id)}/simulate`, {
          method: "POST",
          body,
        }),
      );
    } catch (error) {
      setFailure(errorText(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" title={t("simulator.title")}>
      <Space direction="vertical" style={{ width: "100%" }}>
        <Typography.Text type="secondary">{t("simulator.help")}</Typography.Text>
        <Space wrap>
          <DatePicker.RangePicker
            aria-label={t("reports.period")}
            value={range}
            allowClear={false}
            onChange={(value) => value?.[0] && value[1] && setRange([value[0], value[1]])}
          />
          <Input
            aria-label={t("orders.merchant")}
            placeholder={t("orders.merchant")}
            value={merchant}
            onChange={(event) => setMerchant(event.target.value)}
            style={{ width: 180 }}
          />
          <Button type="primary" loading={busy} onClick={() => void simulate()} data-testid="simulate">
            {t("simulator.run")}
          </Button>
        </Space>
        {failure !== null && <Alert type="error" message={failure} />}
        {result !== null && (
          <div data-testid="simulation-result">
            <Typography.Paragraph>
              {t("simulator.summary", {
                orders: formatNumber(result.orders, lang),
                failed: formatNumber(result.orders_failed, lang),
              })}
            </Typography.Paragraph>
            <Table
              rowKey={(row) => `${row.merchant_id}:${row.party_id}:${row.currency}`}
              size="small"
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              dataSource={result.items}
              scroll={{ x: 700 }}
              columns={[
                { title: t("order.merchant"), dataIndex: "merchant_id" },
                { title: t("simulator.party"), dataIndex: "party_id" },
                {
                  title: t("simulator.old_share"),
                  dataIndex: "old_minor",
                  align: "right",
                  render: (value: Amount, row) => <Money minor={value} currency={row.currency} />,
                },
                {
                  title: t("simulator.new_share"),
                  dataIndex: "new_minor",
                  align: "right",
                  render: (value: Amount, row) => <Money minor={value} currency={row.currency} />,
                },
                {
                  title: t("simulator.difference"),
                  dataIndex: "difference_minor",
                  align: "right",
                  render: (value: Amount, row) => <Money minor={value} currency={row.currency} />,
                },
              ]}
            />
            <Space wrap>
              {(["csv", "xlsx", "pdf"] as const).map((format) => (
                <Button
                  key={format}
                  size="small"
                  onClick={() => void downloadSimulation(policy_id, body, format, lang)}
                >
                  {t("reports.download_as", { format: format.toUpperCase() })}
                </Button>
              ))}
            </Space>
          </div>
        )}
      </Space>
    </Card>
  );
}

/** The simulation is a POST, so its file is fetched and handed to the browser as a download. */
async function downloadSimulation(
  policy_id: string,
  body: object,
  format: string,
  lang: string,
): Promise<void> {
  const { csrfToken } = await import("../api/client.ts");
  const response = await fetch(
    `/v1/policies/${encodeURIComponent(policy_id)}/simulate?format=${format}&lang=${lang}`,
    {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken() ?? "" },
      body: JSON.stringify(body),
    },
  );
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `policy-simulation-${policy_id}.${format}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
