import { Alert, Button, Card, Form, Input, Result, Select, Space, Switch, Table, Tag } from "antd";
import { useState } from "react";
import { ApiError, api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Pager, PageTitle, useAction, useCursorTrail } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";

// Users (admin): list, create, change role or party, disable. The contract:
// GET /v1/users → {items, next_cursor}; POST {login, password, role, party_id?};
// PATCH /v1/users/{id} {role?, party_id?, disabled?}. A server without the
// users API answers 404, and the page says so instead of failing.

interface User {
  id: string;
  login: string;
  email?: string | null;
  role: string;
  party_id: string | null;
  disabled?: boolean;
  disabled_at?: string | null;
  created_at?: string;
}
const user_roles = ["platform_admin", "finance", "reviewer", "auditor", "merchant", "supplier"] as const;

function isDisabled(user: User): boolean {
  return user.disabled === true || (user.disabled_at !== undefined && user.disabled_at !== null);
}

export default function Users() {
  const { t, lang } = useI18n();
  const { cursor, trail, setTrail } = useCursorTrail();
  const { busy, run } = useAction();
  const { data, error, loading, reload } = useApi<{ items: User[]; next_cursor: string | null }>(
    "/v1/users",
    {
      cursor,
      limit: 50,
    },
  );
  if (error instanceof ApiError && error.status === 404)
    return (
      <div data-testid="users-unavailable">
        <Result status="info" title={t("users.unavailable_title")} subTitle={t("users.unavailable_detail")} />
      </div>
    );
  if (error !== undefined) return <ErrorResult error={error} />;
  const patch = (id: string, body: object) =>
    void run(async () => {
      await api(`/v1/users/${encodeURIComponent(id)}`, { method: "PATCH", body });
      reload();
    }, "users.saved");
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle>{t("users.title")}</PageTitle>
      <div data-testid="users-table">
        <Table<User>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          dataSource={data?.items ?? []}
          scroll={{ x: 900 }}
          columns={[
            {
              title: t("users.login"),
              dataIndex: "login",
              render: (value: string, row) => value ?? row.email,
            },
            {
              title: t("keys.role"),
              dataIndex: "role",
              render: (role: string, row) => (
                <Select
                  size="small"
                  aria-label={`${t("keys.role")} ${row.login}`}
                  value={role}
                  style={{ minWidth: 150 }}
                  onChange={(value: string) => patch(row.id, { role: value })}
                  options={user_roles.map((value) => ({ value, label: t(`role.${value}` as MessageKey) }))}
                />
              ),
            },
            { title: t("keys.party"), dataIndex: "party_id", render: (value: string | null) => value ?? "—" },
            {
              title: t("keys.created_at"),
              dataIndex: "created_at",
              render: (value?: string) => formatDateTime(value, lang),
            },
            {
              title: t("users.enabled"),
              key: "disabled",
              render: (_: unknown, row) => (
                <Space>
                  <Switch
                    size="small"
                    checked={!isDisabled(row)}
                    loading={busy}
                    aria-label={`${t("users.enabled")} ${row.login}`}
                    onChange={(enabled) => patch(row.id, { disabled: !enabled })}
                  />
                  {isDisabled(row) && <Tag>{t("users.disabled")}</Tag>}
                </Space>
              ),
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
      <CreateUser onCreated={reload} />
    </Space>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [failure, setFailure] = useState<string | null>(null);
  const role = Form.useWatch("role", form) as string | undefined;
  const { busy, run } = useAction();
  const create = (values: { login: string; password: string; role: string; party_id?: string }) =>
    void run(async () => {
      setFailure(null);
      try {
        await api("/v1/users", {
          method: "POST",
          body: {
            login: values.login,
            password: values.password,
            role: values.role,
            ...(values.party_id ? { party_id: values.party_id } : {}),
          },
        });
      } catch (error) {
        setFailure(error instanceof Error ? error.message : String(error));
        throw error;
      }
      form.resetFields();
      onCreated();
    }, "users.created");
  const required = [{ required: true, message: t("sign_in.required") }];
  return (
    <Card size="small" title={t("users.create")}>
      <Form
        form={form}
        layout="vertical"
        onFinish={create}
        initialValues={{ role: "finance" }}
        style={{ maxWidth: 480 }}
      >
        <Form.Item label={t("users.login")} name="login" rules={required}>
          <Input name="new-login" autoComplete="off" />
        </Form.Item>
        <Form.Item label={t("users.password")} name="password" rules={required}>
          <Input.Password name="new-password" autoComplete="new-password" />
        </Form.Item>
        <Form.Item label={t("keys.role")} name="role">
          <Select options={user_roles.map((value) => ({ value, label: t(`role.${value}` as MessageKey) }))} />
        </Form.Item>
        {(role === "merchant" || role === "supplier") && (
          <Form.Item label={t("keys.party")} name="party_id" rules={required}>
            <Input name="party_id" />
          </Form.Item>
        )}
        {failure !== null && <Alert type="error" message={failure} style={{ marginBottom: 12 }} />}
        <Button type="primary" htmlType="submit" loading={busy}>
          {t("users.create")}
        </Button>
      </Form>
    </Card>
  );
}
