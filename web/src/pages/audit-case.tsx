import { Alert, Button, Card, Descriptions, Form, Input, Select, Space, Spin, Table, Typography } from "antd";
import { api, isNotFound } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { PageTitle, useAction } from "../components/kit.tsx";
import { Money } from "../components/money.tsx";
import { NotFound } from "../components/not-found.tsx";
import { useApi } from "../components/use-api.ts";
import { VerifyRecord } from "../components/verify-record.tsx";
import { formatDateTime } from "../i18n/format.ts";
import { catalogues, type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { useMe } from "../session.tsx";
import { type AuditCase, caseStateTag } from "./audit-queue.tsx";
import type { PageProps } from "./registry.ts";

// A case: its hits, its trail (each action a log record, verified in the
// browser), and the four-eyes decisions. The server applies the rule; the
// page says what the next decision will do (first of two, or final).

interface Hit {
  id: string;
  rule_id: string;
  reason: string;
  inputs_sha256: string;
  created_at: string;
}
interface TrailEntry {
  action: { id: string; action: string; actor: string; person: string | null; reason: string; at: string };
  bundle: unknown;
}

const open_states = ["open", "claimed", "awaiting_second_approval", "rejected"];
const deciders = ["platform_admin", "finance", "reviewer"];
const verdicts = ["approve", "reverse", "adjust", "reject"] as const;

export default function AuditCasePage({ params }: PageProps) {
  const { t, lang } = useI18n();
  const me = useMe();
  const path = `/v1/audit/cases/${encodeURIComponent(params.id!)}`;
  const found = useApi<AuditCase & { hits: Hit[] }>(path);
  const trail = useApi<{ items: TrailEntry[] }>(`${path}/trail`);
  const { busy, run } = useAction();
  // An action this console does not know yet shows its code rather than a missing key.
  const actionName = (action: string) =>
    Object.hasOwn(catalogues[lang], `audit_action.${action}`)
      ? t(`audit_action.${action}` as MessageKey)
      : action;
  if (found.error !== undefined)
    return isNotFound(found.error) ? <NotFound /> : <ErrorResult error={found.error} />;
  const item = found.data;
  if (item === undefined) return <Spin />;
  const reload = () => {
    found.reload();
    trail.reload();
  };
  const can_decide = deciders.includes(me.role) && open_states.includes(item.state);
  const decide = (values: { decision: string; reason: string; entries?: string }) =>
    run(async () => {
      const entries = values.decision === "adjust" && values.entries ? JSON.parse(values.entries) : undefined;
      await api(`${path}/decisions`, {
        method: "POST",
        body: { decision: values.decision, reason: values.reason, ...(entries ? { entries } : {}) },
      });
      reload();
    }, "audit.decided");
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <PageTitle>{t("audit.case")}</PageTitle>
      <Card size="small">
        <Descriptions size="small" column={{ xs: 1, md: 2 }}>
          <Descriptions.Item label={t("audit.state")}>
            <span data-testid="case-state" data-state={item.state}>
              {caseStateTag(t, item.state)}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t("audit.kind")}>
            {t(`case_kind.${item.kind}` as MessageKey)}
          </Descriptions.Item>
          <Descriptions.Item label={t("audit.subject")}>
            {item.order_id !== null ? (
              <Link href={`/orders/${encodeURIComponent(item.order_id)}`}>{item.order_id}</Link>
            ) : (
              (item.party_id ?? "—")
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t("audit.amount")}>
            <Money minor={item.amount_minor} currency={item.currency} />
          </Descriptions.Item>
          <Descriptions.Item label={t("audit.opened_at")}>
            {formatDateTime(item.opened_at, lang)}
          </Descriptions.Item>
          <Descriptions.Item label={t("audit.opened_by")}>{item.opened_by}</Descriptions.Item>
          <Descriptions.Item label={t("audit.claimed_by")}>{item.claimed_by ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("audit.decided_at")}>
            {formatDateTime(item.decided_at, lang)}
          </Descriptions.Item>
        </Descriptions>
        {item.pending !== null && (
          <Alert
            type="info"
            style={{ marginTop: 8 }}
            message={t("audit.pending", {
              decision: t(`decision.${item.pending.decision}` as MessageKey),
              person: item.pending.person,
            })}
            description={item.pending.reason}
          />
        )}
      </Card>
      <Card size="small" title={t("audit.hits")}>
        <Table<Hit>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={item.hits}
          scroll={{ x: 700 }}
          columns={[
            { title: t("audit.rule"), dataIndex: "rule_id" },
            { title: t("audit.reason"), dataIndex: "reason" },
            {
              title: t("audit.at"),
              dataIndex: "created_at",
              render: (value: string) => formatDateTime(value, lang),
            },
          ]}
        />
      </Card>
      {can_decide && (
        <Card size="small" title={t("audit.decide")}>
          <Typography.Paragraph type="secondary">{t("audit.four_eyes_help")}</Typography.Paragraph>
          <Space wrap style={{ marginBottom: 12 }}>
            {item.state === "open" && (
              <Button
                loading={busy}
                onClick={() =>
                  void run(async () => {
                    await api(`${path}/claim`, { method: "POST" });
                    reload();
                  }, "audit.claimed")
                }
              >
                {t("audit.claim")}
              </Button>
            )}
          </Space>
          <Form
            layout="vertical"
            onFinish={(values) => void decide(values)}
            initialValues={{ decision: "approve" }}
          >
            <Form.Item label={t("audit.decision")} name="decision">
              <Select
                data-testid="decision-select"
                options={verdicts
                  .filter((value) => value !== "reject" || item.state === "awaiting_second_approval")
                  .map((value) => ({ value, label: t(`decision.${value}` as MessageKey) }))}
              />
            </Form.Item>
            <Form.Item
              label={t("audit.reason")}
              name="reason"
              rules={[{ required: true, message: t("sign_in.required") }]}
            >
              <Input.TextArea name="reason" rows={2} maxLength={2000} />
            </Form.Item>
            <Form.Item noStyle shouldUpdate>
              {({ getFieldValue }) =>
                getFieldValue("decision") === "adjust" && (
                  <Form.Item label={t("audit.entries")} name="entries" extra={t("audit.entries_help")}>
                    <Input.TextArea name="entries" rows={4} style={{ fontFamily: "monospace" }} />
                  </Form.Item>
                )
              }
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={busy} data-testid="decide">
              {t("audit.submit_decision")}
            </Button>
          </Form>
        </Card>
      )}
      <Card size="small" title={t("audit.trail")}>
        <div data-testid="case-trail">
          <Table<TrailEntry>
            rowKey={(entry) => entry.action.id}
            size="small"
            pagination={false}
            loading={trail.loading}
            dataSource={trail.data?.items ?? []}
            scroll={{ x: 900 }}
            columns={[
              {
                title: t("audit.at"),
                key: "at",
                render: (_: unknown, entry) => formatDateTime(entry.action.at, lang),
              },
              {
                title: t("audit.action"),
                key: "action",
                render: (_: unknown, entry) => actionName(entry.action.action),
              },
              {
                title: t("audit.actor"),
                key: "actor",
                render: (_: unknown, entry) => entry.action.person ?? entry.action.actor,
              },
              { title: t("audit.reason"), key: "reason", render: (_: unknown, entry) => entry.action.reason },
              {
                title: t("verify.column"),
                key: "verify",
                render: (_: unknown, entry) =>
                  entry.bundle === null ? (
                    t("audit.not_yet_logged")
                  ) : (
                    <VerifyRecord
                      record_id={entry.action.id}
                      label={entry.action.action}
                      bundle={entry.bundle}
                    />
                  ),
              },
            ]}
          />
        </div>
      </Card>
    </Space>
  );
}
