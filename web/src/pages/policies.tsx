import { Alert, App, Button, Card, Form, Input, InputNumber, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";
import { Link, navigate } from "../router.tsx";
import { useMe } from "../session.tsx";

export interface Policy {
  id: string;
  name: string;
  status: "draft" | "published";
  hash: string | null;
  return_window_ms: number;
  body: unknown;
  created_at: string;
  published_at: string | null;
}

const day_ms = 86_400_000;

export default function Policies() {
  const { t, lang } = useI18n();
  const me = useMe();
  const { data, error, loading, reload } = useApi<{ items: Policy[] }>("/v1/policies");
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("policies.title")}
      </Typography.Title>
      <Table<Policy>
        size="small"
        rowKey="id"
        loading={loading}
        dataSource={data?.items ?? []}
        pagination={false}
        scroll={{ x: 800 }}
        columns={[
          {
            title: t("policies.name"),
            dataIndex: "name",
            render: (name: string, row) => <Link href={`/policies/${row.id}`}>{name}</Link>,
          },
          {
            title: t("policies.status"),
            dataIndex: "status",
            render: (status: string) => (
              <Tag color={status === "published" ? "green" : "default"}>
                {t(status === "published" ? "policies.published" : "policies.draft")}
              </Tag>
            ),
          },
          {
            title: t("policies.hash"),
            dataIndex: "hash",
            render: (hash: string | null) => (hash ? <code>{hash.slice(0, 16)}…</code> : "—"),
          },
          {
            title: t("policies.published_at"),
            dataIndex: "published_at",
            render: (value: string | null) => formatDateTime(value, lang),
          },
        ]}
      />
      {me.role === "platform_admin" && <NewDraft onCreated={reload} />}
    </Space>
  );
}

function NewDraft({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [error, setError] = useState<string | null>(null);
  const submit = async (values: { name: string; body: string; return_window_days: number }) => {
    setError(null);
    let body: unknown;
    try {
      body = JSON.parse(values.body);
    } catch {
      setError(t("policies.body_not_json"));
      return;
    }
    try {
      const created = await api<Policy>("/v1/policies", {
        method: "POST",
        body: { name: values.name, body, return_window_ms: Math.round(values.return_window_days * day_ms) },
      });
      message.success(t("policies.created"));
      onCreated();
      navigate(`/policies/${created.id}`);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  return (
    <Card size="small" title={t("policies.new_draft")}>
      <Form
        layout="vertical"
        onFinish={(values) => void submit(values)}
        initialValues={{ return_window_days: 7 }}
      >
        <Form.Item
          label={t("policies.name")}
          name="name"
          rules={[{ required: true, message: t("sign_in.required") }]}
        >
          <Input name="name" />
        </Form.Item>
        <Form.Item label={t("policies.return_window_days")} name="return_window_days">
          <InputNumber min={0} max={366} />
        </Form.Item>
        <Form.Item
          label={t("policies.body")}
          name="body"
          rules={[{ required: true, message: t("sign_in.required") }]}
        >
          <Input.TextArea rows={8} spellCheck={false} style={{ fontFamily: "monospace" }} />
        </Form.Item>
        {error !== null && <Alert type="error" message={error} style={{ marginBottom: 12 }} />}
        <Button htmlType="submit" type="primary">
          {t("policies.create")}
        </Button>
      </Form>
    </Card>
  );
}
