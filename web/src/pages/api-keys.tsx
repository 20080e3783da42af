import {
  Alert,
  App,
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
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";

interface ApiKey {
  id: string;
  name: string;
  role: string;
  party_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const key_roles = [
  "integration",
  "platform_admin",
  "finance",
  "reviewer",
  "auditor",
  "merchant",
  "supplier",
  "party",
] as const;

export default function ApiKeys() {
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [include_revoked, setIncludeRevoked] = useState(false);
  const { data, error, loading, reload } = useApi<{ items: ApiKey[] }>("/v1/api-keys", {
    include_revoked: include_revoked ? "true" : undefined,
  });
  const [created, setCreated] = useState<string | null>(null);
  const [create_error, setCreateError] = useState<string | null>(null);
  const [role, setRole] = useState<string>("integration");
  if (error !== undefined) return <ErrorResult error={error} />;
  const create = async (values: { name: string; role: string; party_id?: string }) => {
    setCreateError(null);
    try {
      const result = await api<{ key: string }>("/v1/api-keys", {
        method: "POST",
        body: {
          name: values.name,
          role: values.role,
          ...(values.party_id ? { party_id: values.party_id } : {}),
        },
      });
      setCreated(result.key);
      reload();
    } catch (reason) {
      setCreateError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  const revoke = async (id: string) => {
    await api(`/v1/api-keys/${encodeURIComponent(id)}`, {
      method: "DELETE",
      body: { reason: "revoked in the console" },
    });
    message.success(t("keys.revoked"));
    reload();
  };
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("keys.title")}
      </Typography.Title>
      <Button onClick={() => setIncludeRevoked(!include_revoked)}>
        {t(include_revoked ? "keys.hide_revoked" : "keys.show_revoked")}
      </Button>
      <Table<ApiKey>
        size="small"
        rowKey="id"
        loading={loading}
        dataSource={data?.items ?? []}
        pagination={false}
        scroll={{ x: 900 }}
        columns={[
          { title: t("keys.name"), dataIndex: "name" },
          {
            title: t("keys.role"),
            dataIndex: "role",
            render: (value: string) => t(`role.${value}` as MessageKey),
          },
          { title: t("keys.party"), dataIndex: "party_id", render: (value: string | null) => value ?? "—" },
          {
            title: t("keys.created_at"),
            dataIndex: "created_at",
            render: (value: string) => formatDateTime(value, lang),
          },
          {
            title: t("keys.last_used_at"),
            dataIndex: "last_used_at",
            render: (value: string | null) => formatDateTime(value, lang),
          },
          {
            title: t("keys.status"),
            key: "status",
            render: (_: unknown, row) =>
              row.revoked_at ? (
                <Tag color="red">{t("keys.revoked")}</Tag>
              ) : (
                <Popconfirm
                  title={t("keys.revoke_confirm")}
                  onConfirm={() => void revoke(row.id)}
                  okText={t("keys.revoke")}
                  cancelText={t("common.cancel")}
                >
                  <Button size="small" danger>
                    {t("keys.revoke")}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      <Card size="small" title={t("keys.create")}>
        <Form
          layout="vertical"
          onFinish={(values) => void create(values)}
          initialValues={{ role: "integration" }}
        >
          <Form.Item
            label={t("keys.name")}
            name="name"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input name="name" />
          </Form.Item>
          <Form.Item label={t("keys.role")} name="role">
            <Select
              onChange={setRole}
              options={key_roles.map((value) => ({ value, label: t(`role.${value}` as MessageKey) }))}
            />
          </Form.Item>
          {(role === "merchant" || role === "supplier" || role === "party") && (
            <Form.Item
              label={t("keys.party")}
              name="party_id"
              rules={[{ required: true, message: t("sign_in.required") }]}
            >
              <Input name="party_id" />
            </Form.Item>
          )}
          {create_error !== null && (
            <Alert type="error" message={create_error} style={{ marginBottom: 12 }} />
          )}
          <Button type="primary" htmlType="submit">
            {t("keys.create")}
          </Button>
        </Form>
      </Card>
      <Modal
        open={created !== null}
        onOk={() => setCreated(null)}
        onCancel={() => setCreated(null)}
        title={t("keys.created_title")}
        cancelButtonProps={{ style: { display: "none" } }}
      >
        <Typography.Paragraph>{t("keys.shown_once")}</Typography.Paragraph>
        <Typography.Paragraph copyable={{ text: created ?? "" }}>
          <code style={{ wordBreak: "break-all" }}>{created}</code>
        </Typography.Paragraph>
      </Modal>
    </Space>
  );
}
