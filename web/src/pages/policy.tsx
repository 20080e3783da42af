import { Alert, App, Button, Card, Descriptions, Space, Spin, Typography } from "antd";
import { useState } from "react";
import { api, isNotFound } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { NotFound } from "../components/not-found.tsx";
import { useApi } from "../components/use-api.ts";
import { VerifyRecord } from "../components/verify-record.tsx";
import { formatDateTime, formatNumber } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";
import { isPartyRole, useMe } from "../session.tsx";
import type { Policy } from "./policies.tsx";
import { PolicySimulator } from "./policy-simulator.tsx";
import type { PageProps } from "./registry.ts";

export default function PolicyPage({ params }: PageProps) {
  const { t, lang } = useI18n();
  const me = useMe();
  const { message } = App.useApp();
  const { data: policy, error, reload } = useApi<Policy>(`/v1/policies/${encodeURIComponent(params.id!)}`);
  const [publish_error, setPublishError] = useState<string | null>(null);
  if (error !== undefined) return isNotFound(error) ? <NotFound /> : <ErrorResult error={error} />;
  if (policy === undefined) return <Spin />;
  const publish = async () => {
    try {
      await api(`/v1/policies/${policy.id}/publish`, { method: "POST" });
      message.success(t("policies.published"));
      reload();
    } catch (reason) {
      setPublishError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {policy.name}
      </Typography.Title>
      <Card size="small">
        <Descriptions size="small" column={{ xs: 1, md: 2 }}>
          <Descriptions.Item label={t("policies.status")}>
            {t(policy.status === "published" ? "policies.published" : "policies.draft")}
          </Descriptions.Item>
          <Descriptions.Item label={t("policies.hash")}>
            <code style={{ wordBreak: "break-all" }}>{policy.hash ?? "—"}</code>
          </Descriptions.Item>
          <Descriptions.Item label={t("policies.return_window_days")}>
            {formatNumber(policy.return_window_ms / 86_400_000, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("policies.published_at")}>
            {formatDateTime(policy.published_at, lang)}
          </Descriptions.Item>
        </Descriptions>
        {policy.status === "published" && !isPartyRole(me.role) && (
          <VerifyRecord record_id={policy.id} label={policy.name} />
        )}
        {policy.status === "draft" && me.role === "platform_admin" && (
          <Space direction="vertical" style={{ marginTop: 8 }}>
            <Typography.Text type="secondary">{t("policies.publish_help")}</Typography.Text>
            <Button type="primary" onClick={() => void publish()}>
              {t("policies.publish")}
            </Button>
            {publish_error !== null && <Alert type="error" message={publish_error} />}
          </Space>
        )}
      </Card>
      {["platform_admin", "finance", "auditor"].includes(me.role) && (
        <PolicySimulator policy_id={policy.id} />
      )}
      <Card size="small" title={t("policies.body")}>
        <pre style={{ margin: 0, fontSize: 12, overflowX: "auto" }}>
          {JSON.stringify(policy.body, null, 2)}
        </pre>
      </Card>
    </Space>
  );
}
