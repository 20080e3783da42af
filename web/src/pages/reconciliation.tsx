import { Button, Card, Form, InputNumber, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Pager, PageTitle, useAction, useCursorTrail } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime, formatNumber } from "../i18n/format.ts";
import { type MessageKey, type Translate, useI18n } from "../i18n/index.tsx";
import { Link, navigate } from "../router.tsx";
import { useMe } from "../session.tsx";

// Bill imports: upload a provider's bill (the file goes to the API as is, and
// is reconciled there), then each import's counts and its exceptions.

export const recon_statuses = [
  "matched",
  "missing_in_ledger",
  "missing_in_bill",
  "amount_mismatch",
  "fee_mismatch",
  "duplicate",
] as const;
const providers = ["wechat", "wechat-fund", "alipay", "stripe", "adyen", "generic"] as const;

interface BillImport {
  id: string;
  provider: string;
  file_sha256: string;
  rows_total: number;
  rows_parsed: number;
  counts: Record<string, number>;
  created_at: string;
}

export function countTags(t: Translate, lang: string, counts: Record<string, number>) {
  return recon_statuses
    .filter((status) => (counts[status] ?? 0) > 0)
    .map((status) => (
      <Tag key={status} color={status === "matched" ? "green" : "red"}>
        {t(`recon_status.${status}` as MessageKey)}: {formatNumber(counts[status] ?? 0, lang as "en")}
      </Tag>
    ));
}

export default function Reconciliation() {
  const { t, lang } = useI18n();
  const me = useMe();
  const { cursor, trail, setTrail } = useCursorTrail();
  const { data, error, loading, reload } = useApi<{ items: BillImport[]; next_cursor: string | null }>(
    "/v1/reconciliation/imports",
    { cursor, limit: 20 },
  );
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle>{t("recon.title")}</PageTitle>
      {(me.role === "platform_admin" || me.role === "finance") && <Upload onDone={reload} />}
      <Card size="small" title={t("recon.imports")}>
        <div data-testid="imports-table">
          <Table<BillImport>
            rowKey="id"
            size="small"
            loading={loading}
            pagination={false}
            dataSource={data?.items ?? []}
            scroll={{ x: 800 }}
            columns={[
              {
                title: t("recon.created_at"),
                dataIndex: "created_at",
                render: (value: string, row) => (
                  <Link href={`/reconciliation/${row.id}`}>{formatDateTime(value, lang)}</Link>
                ),
              },
              { title: t("recon.provider"), dataIndex: "provider" },
              {
                title: t("recon.rows"),
                key: "rows",
                align: "right",
                render: (_: unknown, row) =>
                  `${formatNumber(row.rows_parsed, lang)} / ${formatNumber(row.rows_total, lang)}`,
              },
              {
                title: t("recon.counts"),
                dataIndex: "counts",
                render: (counts) => countTags(t, lang, counts),
              },
            ]}
          />
        </div>
        <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
      </Card>
    </Space>
  );
}

function Upload({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const { busy, run } = useAction();
  const [file, setFile] = useState<File | null>(null);
  const submit = (values: { provider: string; tolerance_minor?: number }) =>
    void run(async () => {
      if (file === null) throw new Error(t("recon.choose_file"));
      const result = await api<{ import_id: string }>("/v1/reconciliation/imports", {
        method: "POST",
        query: { provider: values.provider, tolerance_minor: values.tolerance_minor ?? undefined },
        raw: { body: file, content_type: "text/csv" },
      });
      onDone();
      navigate(`/reconciliation/${result.import_id}`);
    }, "recon.uploaded");
  return (
    <Card size="small" title={t("recon.upload")}>
      <Typography.Paragraph type="secondary">{t("recon.upload_help")}</Typography.Paragraph>
      <Form layout="inline" onFinish={submit} initialValues={{ provider: "wechat" }} style={{ rowGap: 8 }}>
        <Form.Item label={t("recon.provider")} name="provider">
          <Select style={{ minWidth: 150 }} options={providers.map((value) => ({ value, label: value }))} />
        </Form.Item>
        <Form.Item label={t("recon.tolerance")} name="tolerance_minor">
          <InputNumber min={0} max={9_999_999} precision={0} />
        </Form.Item>
        <Form.Item label={t("recon.file")}>
          <input
            type="file"
            name="bill"
            accept=".csv,text/csv,text/plain"
            aria-label={t("recon.file")}
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="upload-bill">
          {t("recon.upload")}
        </Button>
      </Form>
    </Card>
  );
}
