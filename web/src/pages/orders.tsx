import { Button, DatePicker, Form, Input, Select, Space, Table, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { ErrorResult } from "../app.tsx";
import { Money } from "../components/money.tsx";
import { useApi } from "../components/use-api.ts";
import { VerifyRecord } from "../components/verify-record.tsx";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link, navigate, useLocation } from "../router.tsx";
import { isPartyRole, useMe } from "../session.tsx";

// Orders, newest first, paged and filtered on the server (the API's cursor
// pages), so the list stays quick at any number of orders. Filters and the
// cursor trail live in the URL: a filtered page is a link.

export interface OrderSummary {
  id: string;
  merchant_id: string;
  currency: string;
  paid_minor: number | string;
  paid_at: string;
  state: "held" | "completed" | "released";
  refund_state: "none" | "partially_refunded" | "refunded";
  refunded_minor: number | string;
  releasable_at: string | null;
  released_at: string | null;
  transaction_id: string;
}

const page_size = 50;
const states = ["held", "completed", "released", "partially_refunded", "refunded"] as const;

export function stateTag(t: (key: MessageKey) => string, state: string) {
  const colors: Record<string, string> = {
    held: "gold",
    completed: "blue",
    released: "green",
    partially_refunded: "orange",
    refunded: "red",
  };
  return (
    <Tag color={colors[state]} key={state}>
      {t(`state.${state}` as MessageKey)}
    </Tag>
  );
}

export default function Orders() {
  const { t, lang } = useI18n();
  const me = useMe();
  const { path, search } = useLocation();
  const filters = {
    merchant_id: search.get("merchant_id") ?? undefined,
    party_id: search.get("party_id") ?? undefined,
    state: search.get("state") ?? undefined,
    paid_from: search.get("paid_from") ?? undefined,
    paid_to: search.get("paid_to") ?? undefined,
  };
  // The trail of cursors that led to this page, so Previous works without a server "previous".
  const trail = (search.get("trail") ?? "").split(",").filter((item) => item !== "");
  const cursor = trail[trail.length - 1];
  const { data, error, loading } = useApi<{ items: OrderSummary[]; next_cursor: string | null }>(
    "/v1/orders",
    {
      ...filters,
      cursor,
      limit: page_size,
    },
  );
  const go = (next: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filters, ...next })) if (value) params.set(key, value);
    const lang_param = search.get("lang");
    if (lang_param) params.set("lang", lang_param);
    navigate(`${path}${params.size > 0 ? `?${params}` : ""}`);
  };
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("orders.title")}
      </Typography.Title>
      <Form
        layout="inline"
        aria-label={t("orders.filters")}
        onFinish={(values: { id?: string }) => {
          if (values.id?.trim()) navigate(`/orders/${encodeURIComponent(values.id.trim())}`);
        }}
        style={{ rowGap: 8 }}
      >
        <Form.Item name="id" label={t("orders.find")}>
          <Input name="order-id" placeholder={t("orders.find_placeholder")} allowClear />
        </Form.Item>
        <Form.Item>
          <Button htmlType="submit">{t("orders.open")}</Button>
        </Form.Item>
      </Form>
      <Space wrap>
        <Select
          aria-label={t("orders.state")}
          placeholder={t("orders.state")}
          allowClear
          style={{ minWidth: 160 }}
          value={filters.state}
          onChange={(value?: string) => go({ state: value, trail: undefined })}
          options={states.map((state) => ({ value: state, label: t(`state.${state}` as MessageKey) }))}
        />
        {!isPartyRole(me.role) && (
          <Input.Search
            aria-label={t("orders.merchant")}
            placeholder={t("orders.merchant")}
            defaultValue={filters.merchant_id}
            allowClear
            onSearch={(value) => go({ merchant_id: value.trim() || undefined, trail: undefined })}
            style={{ width: 200 }}
          />
        )}
        <DatePicker.RangePicker
          aria-label={t("orders.paid_between")}
          value={
            [
              filters.paid_from ? dayjs(filters.paid_from) : null,
              filters.paid_to ? dayjs(filters.paid_to) : null,
            ] as [Dayjs | null, Dayjs | null]
          }
          onChange={(range) =>
            go({
              paid_from: range?.[0]?.startOf("day").toISOString(),
              paid_to: range?.[1]?.endOf("day").toISOString(),
              trail: undefined,
            })
          }
        />
      </Space>
      <div data-testid="orders-table">
        <Table<OrderSummary>
          rowKey="id"
          size="small"
          loading={loading}
          dataSource={data?.items ?? []}
          pagination={false}
          scroll={{ x: 900 }}
          columns={[
            {
              title: t("order.id"),
              dataIndex: "id",
              render: (id: string) => <Link href={`/orders/${encodeURIComponent(id)}`}>{id}</Link>,
            },
            { title: t("order.merchant"), dataIndex: "merchant_id" },
            {
              title: t("order.paid"),
              dataIndex: "paid_minor",
              align: "right",
              render: (value: number, row) => <Money minor={value} currency={row.currency} />,
            },
            {
              title: t("order.paid_at"),
              dataIndex: "paid_at",
              render: (value: string) => formatDateTime(value, lang),
            },
            {
              title: t("order.state"),
              key: "state",
              render: (_: unknown, row) => (
                <>
                  {stateTag(t, row.state)}
                  {row.refund_state !== "none" && stateTag(t, row.refund_state)}
                </>
              ),
            },
            {
              title: t("verify.column"),
              key: "verify",
              render: (_: unknown, row) => <VerifyRecord record_id={row.transaction_id} label={row.id} />,
            },
          ]}
        />
      </div>
      <Space>
        <Button
          disabled={trail.length === 0}
          onClick={() => go({ trail: trail.slice(0, -1).join(",") || undefined })}
        >
          {t("page.previous")}
        </Button>
        <Button
          disabled={!data?.next_cursor}
          onClick={() => go({ trail: [...trail, data!.next_cursor!].join(",") })}
          data-testid="next-page"
        >
          {t("page.next")}
        </Button>
      </Space>
    </Space>
  );
}
