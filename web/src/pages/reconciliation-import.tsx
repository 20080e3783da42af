import { Card, Descriptions, Select, Space, Spin, Table } from "antd";
import { useState } from "react";
import { isNotFound } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Download, PageTitle } from "../components/kit.tsx";
import { Money } from "../components/money.tsx";
import { NotFound } from "../components/not-found.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime, formatNumber } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { countTags, recon_statuses } from "./reconciliation.tsx";
import type { PageProps } from "./registry.ts";

// One reconciliation: its parse report, counts by status and its exception
// items (every status but matched, unless a status is chosen).

interface Item {
  seq: number;
  status: string;
  bill_line: number | null;
  kind: string;
  provider_reference: string | null;
  order_id: string | null;
  currency: string | null;
  bill_amount: string | null;
  ledger_amount_minor: string | number | null;
  bill_fee: string | null;
  ledger_fee_minor: string | number | null;
}
interface Reconciliation {
  id: string;
  provider: string;
  file_sha256: string;
  created_at: string;
  counts: Record<string, number>;
  report?: { rows_total?: number; rows_parsed?: number; rejected?: unknown[] };
  items: Item[];
}

export default function ReconciliationImport({ params }: PageProps) {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState<string | undefined>(undefined);
  const path = `/v1/reconciliation/imports/${encodeURIComponent(params.id!)}`;
  const { data, error, loading } = useApi<Reconciliation>(path, { status });
  if (error !== undefined) return isNotFound(error) ? <NotFound /> : <ErrorResult error={error} />;
  if (data === undefined) return <Spin />;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <PageTitle extra={<Download path={`${path}/result.csv`}>{t("recon.result_file")}</Download>}>
        {t("recon.import")}
      </PageTitle>
      <Card size="small">
        <Descriptions size="small" column={{ xs: 1, md: 2 }}>
          <Descriptions.Item label={t("recon.provider")}>{data.provider}</Descriptions.Item>
          <Descriptions.Item label={t("recon.created_at")}>
            {formatDateTime(data.created_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("recon.file_sha256")}>
            <code style={{ wordBreak: "break-all" }}>{data.file_sha256}</code>
          </Descriptions.Item>
          <Descriptions.Item label={t("recon.counts")}>
            <span data-testid="recon-counts">{countTags(t, lang, data.counts ?? {})}</span>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card size="small" title={t("recon.exceptions")}>
        <Space direction="vertical" style={{ width: "100%" }}>
          <Select
            aria-label={t("recon.status")}
            placeholder={t("recon.exceptions_only")}
            allowClear
            style={{ minWidth: 200 }}
            value={status}
            onChange={(value?: string) => setStatus(value)}
            options={recon_statuses.map((value) => ({
              value,
              label: t(`recon_status.${value}` as MessageKey),
            }))}
          />
          <div data-testid="recon-items">
            <Table<Item>
              rowKey="seq"
              size="small"
              loading={loading}
              pagination={{ pageSize: 50, hideOnSinglePage: true }}
              dataSource={data.items}
              scroll={{ x: 1000 }}
              columns={[
                {
                  title: t("recon.line"),
                  dataIndex: "bill_line",
                  render: (v: number | null) => (v === null ? "—" : formatNumber(v, lang)),
                },
                {
                  title: t("recon.status"),
                  dataIndex: "status",
                  render: (v: string) => t(`recon_status.${v}` as MessageKey),
                },
                { title: t("recon.kind"), dataIndex: "kind" },
                {
                  title: t("recon.reference"),
                  dataIndex: "provider_reference",
                  render: (v: string | null) => v ?? "—",
                },
                {
                  title: t("order.id"),
                  dataIndex: "order_id",
                  render: (id: string | null) =>
                    id === null ? "—" : <Link href={`/orders/${encodeURIComponent(id)}`}>{id}</Link>,
                },
                {
                  title: t("recon.bill_amount"),
                  dataIndex: "bill_amount",
                  align: "right",
                  render: (v: string | null) => v ?? "—",
                },
                {
                  title: t("recon.ledger_amount"),
                  dataIndex: "ledger_amount_minor",
                  align: "right",
                  render: (value: string | number | null, row) =>
                    value === null ? "—" : <Money minor={String(value)} currency={row.currency ?? "CNY"} />,
                },
                { title: t("recon.currency"), dataIndex: "currency", render: (v: string | null) => v ?? "—" },
              ]}
            />
          </div>
        </Space>
      </Card>
    </Space>
  );
}
