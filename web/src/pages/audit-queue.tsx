import { Select, Space, Table, Tag } from "antd";
import { ErrorResult } from "../app.tsx";
import { Pager, PageTitle, useCursorTrail } from "../components/kit.tsx";
import { Money } from "../components/money.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, type Translate, useI18n } from "../i18n/index.tsx";
import { Link, navigate, useLocation } from "../router.tsx";

// The review queue: cases newest first, filtered on the server by state and
// kind (the filters live in the URL, so a filtered queue is a link).

export interface AuditCase {
  id: string;
  kind: "rule" | "manual" | "dispute";
  state: string;
  order_id: string | null;
  party_id: string | null;
  rule_ids: string[];
  amount_minor: number | string;
  currency: string;
  config_hash: string | null;
  opened_at: string;
  opened_by: string;
  claimed_by: string | null;
  pending: { decision: string; person: string; reason: string; at: string } | null;
  decided_at: string | null;
}

export const case_states = [
  "open",
  "claimed",
  "awaiting_second_approval",
  "rejected",
  "approved",
  "reversed",
  "adjusted",
] as const;
const case_kinds = ["rule", "manual", "dispute"] as const;
const state_colors: Record<string, string> = {
  open: "gold",
  claimed: "blue",
  awaiting_second_approval: "purple",
  rejected: "red",
  approved: "green",
  reversed: "volcano",
  adjusted: "cyan",
};

export function caseStateTag(t: Translate, state: string) {
  return <Tag color={state_colors[state]}>{t(`case_state.${state}` as MessageKey)}</Tag>;
}

export default function AuditQueue() {
  const { t, lang } = useI18n();
  const { path, search } = useLocation();
  const state = search.get("state") ?? "any_open";
  const kind = search.get("kind") ?? undefined;
  const { cursor, trail, setTrail } = useCursorTrail();
  const { data, error, loading } = useApi<{ items: AuditCase[]; next_cursor: string | null }>(
    "/v1/audit/cases",
    { state, kind, cursor, limit: 50 },
  );
  const go = (next: { state?: string; kind?: string | undefined }) => {
    const params = new URLSearchParams(search);
    for (const [key, value] of Object.entries(next)) {
      if (value === undefined) params.delete(key);
      else params.set(key, value);
    }
    setTrail([]);
    navigate(`${path}?${params}`);
  };
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <PageTitle>{t("audit.title")}</PageTitle>
      <Space wrap>
        <Select
          aria-label={t("audit.state")}
          style={{ minWidth: 220 }}
          value={state}
          onChange={(value: string) => go({ state: value })}
          options={[
            { value: "any_open", label: t("audit.any_open") },
            ...case_states.map((value) => ({ value, label: t(`case_state.${value}` as MessageKey) })),
          ]}
        />
        <Select
          aria-label={t("audit.kind")}
          placeholder={t("audit.kind")}
          allowClear
          style={{ minWidth: 160 }}
          value={kind}
          onChange={(value?: string) => go({ kind: value })}
          options={case_kinds.map((value) => ({ value, label: t(`case_kind.${value}` as MessageKey) }))}
        />
      </Space>
      <div data-testid="audit-queue">
        <Table<AuditCase>
          rowKey="id"
          size="small"
          loading={loading}
          dataSource={data?.items ?? []}
          pagination={false}
          scroll={{ x: 900 }}
          columns={[
            {
              title: t("audit.opened_at"),
              dataIndex: "opened_at",
              render: (value: string, row) => (
                <Link href={`/audit/${encodeURIComponent(row.id)}`} data-testid="case-link">
                  {formatDateTime(value, lang)}
                </Link>
              ),
            },
            {
              title: t("audit.kind"),
              dataIndex: "kind",
              render: (value: string) => t(`case_kind.${value}` as MessageKey),
            },
            {
              title: t("audit.subject"),
              key: "subject",
              render: (_: unknown, row) =>
                row.order_id !== null ? (
                  <Link href={`/orders/${encodeURIComponent(row.order_id)}`}>{row.order_id}</Link>
                ) : (
                  (row.party_id ?? "—")
                ),
            },
            { title: t("audit.rules"), dataIndex: "rule_ids", render: (ids: string[]) => ids.join(", ") },
            {
              title: t("audit.amount"),
              dataIndex: "amount_minor",
              align: "right",
              render: (value: string, row) => <Money minor={value} currency={row.currency} />,
            },
            {
              title: t("audit.state"),
              dataIndex: "state",
              render: (value: string) => caseStateTag(t, value),
            },
          ]}
        />
      </div>
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Space>
  );
}
