import {
  Alert,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from "antd";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Pager, PageTitle, useAction, useCursorTrail } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";

// Webhook endpoints (Standard Webhooks): create one (its secret is shown once),
// rotate its secret, disable it, and read its deliveries, retrying any.

interface Endpoint {
  id: string;
  url: string;
  event_types: string[];
  party_id: string | null;
  description: string | null;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  created_at: string;
}
interface Delivery {
  id: string;
  type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at?: string;
  next_attempt_at: string | null;
}
const delivery_colors: Record<string, string> = {
  pending: "blue",
  succeeded: "green",
  dead: "red",
  cancelled: "default",
};

export default function Webhooks() {
  const { t, lang } = useI18n();
  const { busy, run } = useAction();
  const { data, error, loading, reload } = useApi<{ items: Endpoint[] }>("/v1/webhook-endpoints");
  const [secret, setSecret] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  if (error !== undefined) return <ErrorResult error={error} />;
  const rotate = (id: string) =>
    void run(async () => {
      const result = await api<{ secret: string }>(`/v1/webhook-endpoints/${id}/rotate-secret`, {
        method: "POST",
        body: {},
      });
      setSecret(result.secret);
    }, "webhooks.rotated");
  const disable = (id: string) =>
    void run(async () => {
      await api(`/v1/webhook-endpoints/${id}/disable`, { method: "POST" });
      reload();
    }, "webhooks.disabled_done");
  const enable = (id: string) =>
    void run(async () => {
      await api(`/v1/webhook-endpoints/${id}`, { method: "PATCH", body: { status: "enabled" } });
      reload();
    }, "webhooks.enabled_done");
  const test = (id: string) =>
    void run(async () => {
      await api("/v1/notifications/test", { method: "POST", body: { endpoint_id: id } });
      setSelected(id);
    }, "webhooks.test_sent");
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle>{t("webhooks.title")}</PageTitle>
      <div data-testid="endpoints-table">
        <Table<Endpoint>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          dataSource={data?.items ?? []}
          scroll={{ x: 1000 }}
          columns={[
            {
              title: t("webhooks.url"),
              dataIndex: "url",
              render: (url: string) => <code style={{ wordBreak: "break-all" }}>{url}</code>,
            },
            {
              title: t("webhooks.event_types"),
              dataIndex: "event_types",
              render: (types: string[]) => types.join(", "),
            },
            { title: t("keys.party"), dataIndex: "party_id", render: (value: string | null) => value ?? "—" },
            {
              title: t("webhooks.status"),
              dataIndex: "status",
              render: (status: string, row) => (
                <Tag
                  color={status === "enabled" ? "green" : "default"}
                  title={row.disabled_reason ?? undefined}
                >
                  {t(`webhooks.status_${status}` as MessageKey)}
                </Tag>
              ),
            },
            {
              title: t("keys.created_at"),
              dataIndex: "created_at",
              render: (value: string) => formatDateTime(value, lang),
            },
            {
              title: t("webhooks.actions"),
              key: "actions",
              render: (_: unknown, row) => (
                <Space wrap size={4}>
                  <Button size="small" onClick={() => setSelected(row.id)} data-testid="show-deliveries">
                    {t("webhooks.deliveries")}
                  </Button>
                  <Button size="small" loading={busy} onClick={() => test(row.id)}>
                    {t("webhooks.send_test")}
                  </Button>
                  <Popconfirm
                    title={t("webhooks.rotate_confirm")}
                    onConfirm={() => rotate(row.id)}
                    okText={t("webhooks.rotate")}
                    cancelText={t("common.cancel")}
                  >
                    <Button size="small">{t("webhooks.rotate")}</Button>
                  </Popconfirm>
                  {row.status === "enabled" ? (
                    <Popconfirm
                      title={t("webhooks.disable_confirm")}
                      onConfirm={() => disable(row.id)}
                      okText={t("webhooks.disable")}
                      cancelText={t("common.cancel")}
                    >
                      <Button size="small" danger data-testid="disable-endpoint">
                        {t("webhooks.disable")}
                      </Button>
                    </Popconfirm>
                  ) : (
                    <Button size="small" onClick={() => enable(row.id)}>
                      {t("webhooks.enable")}
                    </Button>
                  )}
                </Space>
              ),
            },
          ]}
        />
      </div>
      {selected !== null && <Deliveries key={selected} endpoint_id={selected} />}
      <CreateEndpoint
        onCreated={(created) => {
          setSecret(created);
          reload();
        }}
      />
      <Modal
        open={secret !== null}
        onOk={() => setSecret(null)}
        onCancel={() => setSecret(null)}
        title={t("webhooks.secret_title")}
        cancelButtonProps={{ style: { display: "none" } }}
      >
        <Typography.Paragraph>{t("keys.shown_once")}</Typography.Paragraph>
        <Typography.Paragraph copyable={{ text: secret ?? "" }}>
          <code style={{ wordBreak: "break-all" }} data-testid="webhook-secret">
            {secret}
          </code>
        </Typography.Paragraph>
      </Modal>
    </Space>
  );
}

function Deliveries({ endpoint_id }: { endpoint_id: string }) {
  const { t } = useI18n();
  const { cursor, trail, setTrail } = useCursorTrail();
  const { busy, run } = useAction();
  const { data, error, loading, reload } = useApi<{ items: Delivery[]; next_cursor: string | null }>(
    `/v1/webhook-endpoints/${endpoint_id}/deliveries`,
    { cursor, limit: 20 },
  );
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Card
      size="small"
      title={t("webhooks.deliveries")}
      extra={
        <Button size="small" onClick={reload}>
          {t("webhooks.refresh")}
        </Button>
      }
    >
      <div data-testid="deliveries-table">
        <Table<Delivery>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          dataSource={data?.items ?? []}
          scroll={{ x: 800 }}
          locale={{ emptyText: t("webhooks.no_deliveries") }}
          columns={[
            { title: t("webhooks.event_type"), dataIndex: "type" },
            {
              title: t("webhooks.status"),
              dataIndex: "status",
              render: (status: string) => (
                <Tag color={delivery_colors[status]}>{t(`delivery.${status}` as MessageKey)}</Tag>
              ),
            },
            { title: t("webhooks.attempts"), dataIndex: "attempts" },
            {
              title: t("webhooks.last_result"),
              key: "last",
              render: (_: unknown, row) =>
                row.last_error ?? (row.last_status_code === null ? "—" : String(row.last_status_code)),
            },
            {
              title: t("webhooks.actions"),
              key: "retry",
              render: (_: unknown, row) => (
                <Button
                  size="small"
                  loading={busy}
                  data-testid="retry-delivery"
                  onClick={() =>
                    void run(async () => {
                      await api(`/v1/webhook-deliveries/${row.id}/retry`, { method: "POST" });
                      reload();
                    }, "webhooks.retried")
                  }
                >
                  {t("webhooks.retry")}
                </Button>
              ),
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Card>
  );
}

function CreateEndpoint({ onCreated }: { onCreated: (secret: string) => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [failure, setFailure] = useState<string | null>(null);
  const types = useApi<{ items: { type: string; webhook: boolean }[] }>("/v1/event-types");
  const { busy, run } = useAction();
  const create = (values: { url: string; event_types: string[]; description?: string }) =>
    void run(async () => {
      setFailure(null);
      try {
        const created = await api<{ secret: string }>("/v1/webhook-endpoints", {
          method: "POST",
          body: { url: values.url, event_types: values.event_types, description: values.description || null },
        });
        form.resetFields();
        onCreated(created.secret);
      } catch (error) {
        setFailure(error instanceof Error ? error.message : String(error));
        throw error;
      }
    }, "webhooks.created");
  return (
    <Card size="small" title={t("webhooks.create")}>
      <Form form={form} layout="vertical" onFinish={create} style={{ maxWidth: 640 }}>
        <Form.Item
          label={t("webhooks.url")}
          name="url"
          rules={[{ required: true, message: t("sign_in.required") }]}
        >
          <Input name="url" type="url" placeholder="https://" />
        </Form.Item>
        <Form.Item
          label={t("webhooks.event_types")}
          name="event_types"
          rules={[{ required: true, message: t("sign_in.required") }]}
        >
          <Select
            mode="multiple"
            aria-label={t("webhooks.event_types")}
            loading={types.loading}
            options={(types.data?.items ?? [])
              .filter((item) => item.webhook)
              .map((item) => ({ value: item.type, label: item.type }))}
          />
        </Form.Item>
        <Form.Item label={t("webhooks.description")} name="description">
          <Input name="description" maxLength={500} />
        </Form.Item>
        {failure !== null && <Alert type="error" message={failure} style={{ marginBottom: 12 }} />}
        <Button type="primary" htmlType="submit" loading={busy} data-testid="create-endpoint">
          {t("webhooks.create")}
        </Button>
      </Form>
    </Card>
  );
}
