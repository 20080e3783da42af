import { Badge, Button, List, Space, Tag, Typography } from "antd";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { announceInboxChanged, Pager, PageTitle, useAction, useCursorTrail } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime, formatNumber } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";

// The caller's inbox, newest first: mark one read, or all; send a test
// notification to see the channels work.

interface InboxItem {
  id: string;
  type: string;
  title: string;
  body: string;
  created_at: string;
  read_at: string | null;
}

export default function Inbox() {
  const { t, lang } = useI18n();
  const { cursor, trail, setTrail } = useCursorTrail();
  const { busy, run } = useAction();
  const { data, error, loading, reload } = useApi<{
    items: InboxItem[];
    next_cursor: string | null;
    unread_count: number;
  }>("/v1/inbox", { cursor, limit: 20 });
  if (error !== undefined) return <ErrorResult error={error} />;
  const write = (path: string, done: Parameters<typeof run>[1]) =>
    void run(async () => {
      await api(path, { method: "POST" });
      reload();
      announceInboxChanged();
    }, done);
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <PageTitle
        extra={
          <Space wrap>
            <Button
              loading={busy}
              onClick={() => write("/v1/notifications/test", "inbox.test_sent")}
              data-testid="inbox-test"
            >
              {t("inbox.send_test")}
            </Button>
            <Button
              loading={busy}
              disabled={(data?.unread_count ?? 0) === 0}
              onClick={() => write("/v1/inbox/read-all", "inbox.all_read")}
              data-testid="inbox-read-all"
            >
              {t("inbox.read_all")}
            </Button>
          </Space>
        }
      >
        {t("inbox.title")}
      </PageTitle>
      <Typography.Text data-testid="inbox-unread" data-count={data?.unread_count ?? 0}>
        {t("inbox.unread", { count: formatNumber(data?.unread_count ?? 0, lang) })}
      </Typography.Text>
      <List<InboxItem>
        data-testid="inbox-list"
        loading={loading}
        bordered
        locale={{ emptyText: t("inbox.empty") }}
        dataSource={data?.items ?? []}
        renderItem={(item) => (
          <List.Item
            data-testid="inbox-item"
            data-read={item.read_at !== null}
            actions={
              item.read_at === null
                ? [
                    <Button
                      key="read"
                      size="small"
                      onClick={() => write(`/v1/inbox/${item.id}/read`, undefined)}
                    >
                      {t("inbox.mark_read")}
                    </Button>,
                  ]
                : []
            }
          >
            <List.Item.Meta
              title={
                <Space wrap>
                  {item.read_at === null && <Badge status="processing" />}
                  <span style={{ fontWeight: item.read_at === null ? 600 : 400 }}>{item.title}</span>
                  <Tag>{item.type}</Tag>
                </Space>
              }
              description={
                <>
                  <div style={{ whiteSpace: "pre-wrap" }}>{item.body}</div>
                  <Typography.Text type="secondary">{formatDateTime(item.created_at, lang)}</Typography.Text>
                </>
              }
            />
          </List.Item>
        )}
      />
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Space>
  );
}
