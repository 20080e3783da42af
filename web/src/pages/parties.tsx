import { Select, Space, Table, Typography } from "antd";
import { useState } from "react";
import { ErrorResult } from "../app.tsx";
import { Pager } from "../components/kit.tsx";
import { useApi } from "../components/use-api.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";

interface Party {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
}

const kinds = ["merchant", "supplier", "referrer", "platform", "psp", "tax", "logistics"] as const;

export default function Parties() {
  const { t } = useI18n();
  const [kind, setKind] = useState<string | undefined>(undefined);
  const [trail, setTrail] = useState<string[]>([]);
  const { data, error, loading } = useApi<{ items: Party[]; next_cursor: string | null }>("/v1/parties", {
    kind,
    cursor: trail[trail.length - 1],
    limit: 100,
  });
  if (error !== undefined) return <ErrorResult error={error} />;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("parties.title")}
      </Typography.Title>
      <Select
        aria-label={t("parties.kind")}
        placeholder={t("parties.kind")}
        allowClear
        style={{ width: 200 }}
        value={kind}
        onChange={(value?: string) => {
          setKind(value);
          setTrail([]);
        }}
        options={kinds.map((value) => ({ value, label: t(`party_kind.${value}` as MessageKey) }))}
      />
      <Table<Party>
        size="small"
        rowKey="id"
        loading={loading}
        dataSource={data?.items ?? []}
        pagination={false}
        columns={[
          {
            title: t("parties.id"),
            dataIndex: "id",
            render: (id: string) => <Link href={`/parties/${encodeURIComponent(id)}`}>{id}</Link>,
          },
          { title: t("parties.name"), dataIndex: "name" },
          {
            title: t("parties.kind"),
            dataIndex: "kind",
            render: (value: string) => t(`party_kind.${value}` as MessageKey),
          },
          {
            title: t("parties.parent"),
            dataIndex: "parent_id",
            render: (value: string | null) => value ?? "—",
          },
        ]}
      />
      <Pager trail={trail} setTrail={setTrail} next={data?.next_cursor ?? null} />
    </Space>
  );
}
