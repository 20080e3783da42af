import { Button, Card, Checkbox, DatePicker, Form, Input, Select, Space, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { api, errorText, withQuery } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { Download, PageTitle, useAction } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime } from "../i18n/format.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { isPartyRole, useMe } from "../session.tsx";

// Reports: run a standard report in any format and language (shown here as
// JSON, or downloaded as CSV, XLSX or PDF), and saved custom reports with
// their schedules and the files the schedules made.

const formats = ["csv", "xlsx", "pdf", "json"] as const;
const platform_reports = ["statement", "platform_revenue", "split_detail", "settlement_status"] as const;
const party_reports = ["statement", "split_detail", "settlement_status"] as const;
const datasets = {
  entries: {
    dimensions: ["day", "month", "party_id", "purpose", "kind", "currency", "account_id", "order_id"],
    measures: ["amount_minor", "credits_minor", "debits_minor", "count"],
  },
  orders: {
    dimensions: ["day", "month", "merchant_id", "currency"],
    measures: ["paid_minor", "refunded_minor", "count"],
  },
  legs: {
    dimensions: [
      "day",
      "month",
      "merchant_id",
      "party_id",
      "role",
      "rule_id",
      "category",
      "currency",
      "order_id",
    ],
    measures: ["amount_minor", "count", "orders"],
  },
} as const;
const relative_periods = ["previous_day", "previous_week", "previous_month"] as const;
const schedules = ["daily", "weekly", "monthly"] as const;

interface Saved {
  id: string;
  name: string;
  owner: string;
  shared: boolean;
  definition: { dataset: string };
  schedule: string | null;
  schedule_format: string | null;
  next_run_at: string | null;
}

export default function Reports() {
  const { t } = useI18n();
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle>{t("reports.title")}</PageTitle>
      <RunReport />
      <SavedReports />
    </Space>
  );
}

function RunReport() {
  const { t, lang } = useI18n();
  const me = useMe();
  const party = isPartyRole(me.role);
  const [report, setReport] = useState<string>("statement");
  const [party_id, setPartyId] = useState<string>(me.party_id ?? "");
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().startOf("month"), dayjs().startOf("day")]);
  const [shown, setShown] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const query = {
    party_id: party_id.trim() || undefined,
    from: range[0].format("YYYY-MM-DD"),
    // The picker's last day is included; the API's `to` is the day after it.
    to: range[1].add(1, "day").format("YYYY-MM-DD"),
    lang,
  };
  const show = async () => {
    setBusy(true);
    try {
      setShown(
        JSON.stringify(await api(`/v1/reports/${report}`, { query: { ...query, format: "json" } }), null, 2),
      );
    } catch (error) {
      setShown(errorText(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" title={t("reports.run")}>
      <Space direction="vertical" style={{ width: "100%" }}>
        <Space wrap>
          <Select
            aria-label={t("reports.report")}
            style={{ minWidth: 200 }}
            value={report}
            onChange={setReport}
            options={(party ? party_reports : platform_reports).map((value) => ({
              value,
              label: t(`report.${value}` as MessageKey),
            }))}
          />
          {!party && (
            <Input
              aria-label={t("reports.party")}
              placeholder={t("reports.party")}
              value={party_id}
              onChange={(event) => setPartyId(event.target.value)}
              style={{ width: 180 }}
            />
          )}
          <DatePicker.RangePicker
            aria-label={t("reports.period")}
            value={range}
            allowClear={false}
            onChange={(value) => value?.[0] && value[1] && setRange([value[0], value[1]])}
          />
        </Space>
        <Typography.Text type="secondary">{t("reports.period_help")}</Typography.Text>
        <Space wrap>
          <Button type="primary" loading={busy} onClick={() => void show()} data-testid="report-show">
            {t("reports.show")}
          </Button>
          {formats.map((format) => (
            <Download key={format} path={`/v1/reports/${report}`} query={{ ...query, format }}>
              {t("reports.download_as", { format: format.toUpperCase() })}
            </Download>
          ))}
        </Space>
        {shown !== null && (
          <pre
            data-testid="report-result"
            style={{ maxHeight: 400, overflow: "auto", fontSize: 12, background: "#f6f6f6", padding: 8 }}
          >
            {shown}
          </pre>
        )}
      </Space>
    </Card>
  );
}

function SavedReports() {
  const { t, lang } = useI18n();
  const { data, error, loading, reload } = useApi<{ items: Saved[] }>("/v1/reports/saved");
  const [open_runs, setOpenRuns] = useState<string | null>(null);
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Card size="small" title={t("reports.saved")}>
      <Space direction="vertical" style={{ width: "100%" }}>
        <div data-testid="saved-reports">
          <Table<Saved>
            rowKey="id"
            size="small"
            loading={loading}
            pagination={false}
            dataSource={data?.items ?? []}
            scroll={{ x: 800 }}
            columns={[
              { title: t("reports.name"), dataIndex: "name" },
              {
                title: t("reports.dataset"),
                key: "dataset",
                render: (_: unknown, row) => t(`dataset.${row.definition.dataset}` as MessageKey),
              },
              {
                title: t("reports.schedule"),
                dataIndex: "schedule",
                render: (value: string | null, row) =>
                  value === null
                    ? t("reports.not_scheduled")
                    : `${t(`schedule.${value}` as MessageKey)} · ${formatDateTime(row.next_run_at, lang)}`,
              },
              {
                title: t("reports.run_now"),
                key: "run",
                render: (_: unknown, row) => (
                  <Space wrap size={4}>
                    {formats.map((format) => (
                      <Download
                        key={format}
                        path={`/v1/reports/saved/${row.id}/run`}
                        query={{ format, lang }}
                      >
                        {format.toUpperCase()}
                      </Download>
                    ))}
                    <Button
                      size="small"
                      type="link"
                      onClick={() => setOpenRuns(open_runs === row.id ? null : row.id)}
                    >
                      {t("reports.files")}
                    </Button>
                  </Space>
                ),
              },
            ]}
          />
        </div>
        {open_runs !== null && <ScheduledRuns id={open_runs} />}
        <SaveReport onSaved={reload} />
      </Space>
    </Card>
  );
}

function ScheduledRuns({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const { data, loading } = useApi<{
    items: { id: string; created_at?: string; period_from?: string; format?: string }[];
  }>(`/v1/reports/saved/${id}/runs`);
  return (
    <Table
      rowKey="id"
      size="small"
      loading={loading}
      pagination={false}
      locale={{ emptyText: t("reports.no_files") }}
      dataSource={data?.items ?? []}
      columns={[
        {
          title: t("reports.made_at"),
          dataIndex: "created_at",
          render: (value?: string) => formatDateTime(value, lang),
        },
        {
          title: t("reports.file"),
          key: "file",
          render: (_: unknown, row: { id: string }) => (
            <a href={withQuery(`/v1/reports/saved/${id}/runs/${row.id}`, undefined)} download>
              {t("reports.download")}
            </a>
          ),
        },
      ]}
    />
  );
}

function SaveReport({ onSaved }: { onSaved: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const { busy, run } = useAction();
  const dataset = (Form.useWatch("dataset", form) ?? "orders") as keyof typeof datasets;
  const fieldName = (name: string) => t(`field.${name}` as MessageKey);
  const save = (values: {
    name: string;
    dimensions: string[];
    measures: string[];
    relative: string;
    shared?: boolean;
    schedule?: string;
    schedule_format?: string;
  }) =>
    void run(async () => {
      await api("/v1/reports/saved", {
        method: "POST",
        body: {
          name: values.name,
          definition: {
            dataset,
            dimensions: values.dimensions,
            measures: values.measures,
            period: { relative: values.relative },
          },
          shared: values.shared === true,
          ...(values.schedule
            ? { schedule: values.schedule, schedule_format: values.schedule_format ?? "csv" }
            : {}),
        },
      });
      form.resetFields();
      onSaved();
    }, "reports.saved_done");
  return (
    <Form
      form={form}
      layout="vertical"
      onFinish={save}
      initialValues={{
        dataset: "orders",
        dimensions: ["day"],
        measures: ["paid_minor"],
        relative: "previous_month",
      }}
      style={{ maxWidth: 640 }}
    >
      <Typography.Title level={4}>{t("reports.save_new")}</Typography.Title>
      <Form.Item
        label={t("reports.name")}
        name="name"
        rules={[{ required: true, message: t("sign_in.required") }]}
      >
        <Input name="report-name" />
      </Form.Item>
      <Form.Item label={t("reports.dataset")} name="dataset">
        <Select
          onChange={(value: keyof typeof datasets) =>
            form.setFieldsValue({
              dimensions: [datasets[value].dimensions[0]],
              measures: [datasets[value].measures[0]],
            })
          }
          options={Object.keys(datasets).map((value) => ({
            value,
            label: t(`dataset.${value}` as MessageKey),
          }))}
        />
      </Form.Item>
      <Form.Item
        label={t("reports.dimensions")}
        name="dimensions"
        rules={[{ required: true, message: t("sign_in.required") }]}
      >
        <Select
          mode="multiple"
          maxCount={4}
          options={datasets[dataset].dimensions.map((value) => ({ value, label: fieldName(value) }))}
        />
      </Form.Item>
      <Form.Item
        label={t("reports.measures")}
        name="measures"
        rules={[{ required: true, message: t("sign_in.required") }]}
      >
        <Select
          mode="multiple"
          maxCount={4}
          options={datasets[dataset].measures.map((value) => ({ value, label: fieldName(value) }))}
        />
      </Form.Item>
      <Form.Item label={t("reports.period")} name="relative">
        <Select
          options={relative_periods.map((value) => ({ value, label: t(`period.${value}` as MessageKey) }))}
        />
      </Form.Item>
      <Space wrap>
        <Form.Item label={t("reports.schedule")} name="schedule">
          <Select
            allowClear
            placeholder={t("reports.not_scheduled")}
            style={{ minWidth: 160 }}
            options={schedules.map((value) => ({ value, label: t(`schedule.${value}` as MessageKey) }))}
          />
        </Form.Item>
        <Form.Item label={t("reports.format")} name="schedule_format">
          <Select
            style={{ minWidth: 100 }}
            options={formats.map((value) => ({ value, label: value.toUpperCase() }))}
          />
        </Form.Item>
      </Space>
      <Form.Item name="shared" valuePropName="checked">
        <Checkbox>{t("reports.shared")}</Checkbox>
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy} data-testid="save-report">
        {t("reports.save")}
      </Button>
    </Form>
  );
}
