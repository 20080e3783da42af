import { Button, Card, DatePicker, Form, Input, Space, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Download, useAction } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { caseStateTag } from "./audit-queue.tsx";

// The party portal's statements (a month, signed, in any format and the
// user's language) and disputes (its own, and a form to open one).

export function Statements({ party_id }: { party_id: string }) {
  const { t, lang } = useI18n();
  const [month, setMonth] = useState<Dayjs>(dayjs().startOf("month"));
  const query = {
    party_id,
    from: month.startOf("month").format("YYYY-MM-DD"),
    to: month.add(1, "month").startOf("month").format("YYYY-MM-DD"),
    lang,
  };
  return (
    <Space direction="vertical" data-testid="statements">
      <Typography.Paragraph type="secondary">{t("portal.statements_help")}</Typography.Paragraph>
      <DatePicker
        picker="month"
        aria-label={t("portal.month")}
        value={month}
        allowClear={false}
        onChange={(value) => value && setMonth(value)}
      />
      <Space wrap>
        {(["pdf", "xlsx", "csv", "json"] as const).map((format) => (
          <Download key={format} path="/v1/reports/statement" query={{ ...query, format }}>
            {t("reports.download_as", { format: format.toUpperCase() })}
          </Download>
        ))}
      </Space>
    </Space>
  );
}

interface Dispute {
  id: string;
  case_id: string;
  order_id: string;
  reason: string;
  bundle_verified: boolean;
  state: string;
  created_at: string;
}

export function Disputes() {
  const { t, lang } = useI18n();
  const { data, error, loading, reload } = useApi<{ items: Dispute[] }>("/v1/disputes");
  const { busy, run } = useAction();
  const [form] = Form.useForm();
  if (error !== undefined) return <ErrorResult error={error} />;
  const open = (values: { order_id: string; reason: string }) =>
    void run(async () => {
      await api("/v1/disputes", {
        method: "POST",
        body: { order_id: values.order_id.trim(), reason: values.reason },
      });
      form.resetFields();
      reload();
    }, "disputes.opened");
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <div data-testid="disputes-table">
        <Table<Dispute>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          dataSource={data?.items ?? []}
          scroll={{ x: 700 }}
          locale={{ emptyText: t("disputes.none") }}
          columns={[
            {
              title: t("audit.opened_at"),
              dataIndex: "created_at",
              render: (value: string) => formatDateTime(value, lang),
            },
            {
              title: t("order.id"),
              dataIndex: "order_id",
              render: (id: string) => <Link href={`/orders/${encodeURIComponent(id)}`}>{id}</Link>,
            },
            { title: t("audit.reason"), dataIndex: "reason" },
            {
              title: t("audit.state"),
              dataIndex: "state",
              render: (value: string) => caseStateTag(t, value),
            },
          ]}
        />
      </div>
      <Card size="small" title={t("disputes.open")}>
        <Form form={form} layout="vertical" onFinish={open} style={{ maxWidth: 480 }}>
          <Form.Item
            label={t("order.id")}
            name="order_id"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input name="dispute-order" />
          </Form.Item>
          <Form.Item
            label={t("audit.reason")}
            name="reason"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input.TextArea name="dispute-reason" rows={2} maxLength={2000} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t("disputes.open")}
          </Button>
        </Form>
      </Card>
    </Space>
  );
}
