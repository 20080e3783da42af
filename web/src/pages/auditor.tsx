import { Alert, Button, Card, Input, Select, Space, Spin, Table, Tag, Typography } from "antd";
import {
  fromBase64Strict,
  parseNote,
  parseVkey,
  toBase64,
  verifyCheckpoint,
  verifyConsistency,
  verifyCosignature,
} from "clearsplit/verify";
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import { ErrorResult } from "../app.tsx";
import { useApi } from "../components/use-api.ts";
import { formatDateTime, formatNumber } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";
import { pinnedKeys, setWitnessKeys, trustOfferedKey, useMe } from "../session.tsx";

const Chart = lazy(() => import("../charts/chart.tsx"));

// The auditor's view of the log: the latest checkpoint and its cosignatures
// checked here against the pinned keys, checkpoints over time, and a
// consistency proof between two of them verified in the browser.

interface CheckpointItem {
  size: number;
  root: string;
  created_at: string;
  cosignatures: number;
}

type Check = { status: "ok"; detail: string } | { status: "failed"; detail: string };

export default function Auditor() {
  const { t } = useI18n();
  const me = useMe();
  const [keys, setKeys] = useState(() => pinnedKeys(me.tenant_id));
  const checkpoints = useApi<{ items: CheckpointItem[]; next_before: number | null }>("/v1/log/checkpoints", {
    limit: 200,
  });
  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {t("auditor.title")}
      </Typography.Title>
      {keys.offered_key !== null && (
        <Alert
          type="warning"
          showIcon
          message={t("auditor.key_changed")}
          description={<code style={{ wordBreak: "break-all" }}>{keys.offered_key}</code>}
          action={
            <Button
              size="small"
              onClick={() => {
                trustOfferedKey(me.tenant_id);
                setKeys(pinnedKeys(me.tenant_id));
              }}
            >
              {t("auditor.trust_new_key")}
            </Button>
          }
        />
      )}
      <LatestCheckpoint tenant={me.tenant_id} log_key={keys.log_key} witness_keys={keys.witness_keys} />
      <WitnessKeys
        tenant={me.tenant_id}
        keys={keys.witness_keys}
        onChange={() => setKeys(pinnedKeys(me.tenant_id))}
      />
      {checkpoints.error !== undefined ? (
        <ErrorResult error={checkpoints.error} />
      ) : checkpoints.data === undefined ? (
        <Spin />
      ) : (
        <>
          <Consistency items={checkpoints.data.items} log_key={keys.log_key} />
          <CheckpointHistory items={checkpoints.data.items} />
        </>
      )}
    </Space>
  );
}

function LatestCheckpoint({
  tenant,
  log_key,
  witness_keys,
}: {
  tenant: string;
  log_key: string | null;
  witness_keys: string[];
}) {
  const { t, lang } = useI18n();
  const [state, setState] = useState<{
    note: string;
    check: Check;
    cosigners: { name: string; ok: boolean }[];
  } | null>(null);
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      let note = "";
      try {
        note = await api<string>(`/log/${encodeURIComponent(tenant)}/checkpoint`, { text: true });
        if (log_key === null) throw new Error(t("verify.no_pinned_key"));
        const checkpoint = await verifyCheckpoint(note, [log_key]);
        const cosigners: { name: string; ok: boolean }[] = [];
        for (const key of witness_keys) {
          const name = (await parseVkey(key)).name;
          try {
            await verifyCosignature(note, key);
            cosigners.push({ name, ok: true });
          } catch {
            cosigners.push({ name, ok: false });
          }
        }
        const detail = t("auditor.checkpoint_ok", {
          size: formatNumber(checkpoint.size, lang),
          origin: checkpoint.origin,
        });
        if (!cancelled) setState({ note, check: { status: "ok", detail }, cosigners });
      } catch (error) {
        if (!cancelled)
          setState({
            note,
            check: { status: "failed", detail: String(error instanceof Error ? error.message : error) },
            cosigners: [],
          });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [tenant, log_key, witness_keys, t, lang]);
  const signatures = useMemo(() => {
    if (!state?.note) return [];
    try {
      return parseNote(state.note).signatures.map((signature) => signature.name);
    } catch {
      return [];
    }
  }, [state]);
  return (
    <Card size="small" title={t("auditor.latest")}>
      {state === null ? (
        <Spin />
      ) : (
        <Space direction="vertical" style={{ width: "100%" }}>
          <div data-testid="checkpoint-result" data-status={state.check.status}>
            <Tag color={state.check.status === "ok" ? "green" : "red"}>
              {t(state.check.status === "ok" ? "verify.ok" : "verify.failed")}
            </Tag>
            {state.check.detail}
          </div>
          <dl className="facts">
            <dt>{t("auditor.pinned_key")}</dt>
            <dd>
              <code>{log_key ?? "—"}</code>
            </dd>
            <dt>{t("auditor.signature_lines")}</dt>
            <dd>{signatures.join(", ") || "—"}</dd>
            <dt>{t("verify.cosigners")}</dt>
            <dd>
              {state.cosigners.length === 0
                ? t("auditor.no_witnesses")
                : state.cosigners.map((c) => (
                    <Tag key={c.name} color={c.ok ? "green" : "red"}>
                      {c.name}
                    </Tag>
                  ))}
            </dd>
          </dl>
          <pre style={{ background: "#fafafa", padding: 8, fontSize: 12, overflowX: "auto", margin: 0 }}>
            {state.note}
          </pre>
        </Space>
      )}
    </Card>
  );
}

function WitnessKeys({ tenant, keys, onChange }: { tenant: string; keys: string[]; onChange: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState(keys.join("\n"));
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    const lines = text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    try {
      for (const line of lines) await parseVkey(line);
      setWitnessKeys(tenant, lines);
      setError(null);
      onChange();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  return (
    <Card size="small" title={t("auditor.witness_keys")}>
      <Typography.Paragraph type="secondary">{t("auditor.witness_keys_help")}</Typography.Paragraph>
      <label htmlFor="witness-keys" className="visually-hidden">
        {t("auditor.witness_keys")}
      </label>
      <Input.TextArea
        id="witness-keys"
        rows={3}
        value={text}
        onChange={(event) => setText(event.target.value)}
        spellCheck={false}
      />
      {error !== null && <Alert type="error" message={error} style={{ marginTop: 8 }} />}
      <Button style={{ marginTop: 8 }} onClick={() => void save()}>
        {t("auditor.save_keys")}
      </Button>
    </Card>
  );
}

function Consistency({ items, log_key }: { items: CheckpointItem[]; log_key: string | null }) {
  const { t, lang } = useI18n();
  const sizes = useMemo(() => [...new Set(items.map((item) => item.size))].sort((a, b) => a - b), [items]);
  const [from, setFrom] = useState<number | undefined>(sizes[0]);
  const [to, setTo] = useState<number | undefined>(sizes[sizes.length - 1]);
  const [result, setResult] = useState<Check | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async () => {
    if (from === undefined || to === undefined) return;
    setBusy(true);
    try {
      if (log_key === null) throw new Error(t("verify.no_pinned_key"));
      const old_root = items.find((item) => item.size === from)?.root;
      if (old_root === undefined) throw new Error(`no checkpoint of size ${from}`);
      const proof = await api<{ from: number; to: number; proof: string[]; checkpoint: string }>(
        "/v1/log/consistency",
        {
          query: { from, to },
        },
      );
      const newer = await verifyCheckpoint(proof.checkpoint, [log_key]);
      if (newer.size !== BigInt(to))
        throw new Error(`the signed checkpoint is of size ${newer.size}, not ${to}`);
      const nodes = proof.proof.map((node) => {
        const bytes = fromBase64Strict(node);
        if (bytes === undefined) throw new Error("the proof is not base64");
        return bytes;
      });
      const old_bytes = fromBase64Strict(old_root);
      if (old_bytes === undefined) throw new Error("the older root is not base64");
      const ok = await verifyConsistency(BigInt(from), BigInt(to), nodes, old_bytes, newer.rootHash);
      setResult(
        ok
          ? {
              status: "ok",
              detail: t("auditor.consistent", {
                from: formatNumber(from, lang),
                to: formatNumber(to, lang),
                root: `${toBase64(newer.rootHash).slice(0, 12)}…`,
              }),
            }
          : { status: "failed", detail: t("auditor.inconsistent") },
      );
    } catch (error) {
      setResult({ status: "failed", detail: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };
  const options = sizes.map((size) => ({ value: size, label: formatNumber(size, lang) }));
  return (
    <Card size="small" title={t("auditor.consistency")}>
      <Space wrap>
        <Select
          aria-label={t("auditor.older")}
          placeholder={t("auditor.older")}
          style={{ width: 160 }}
          value={from}
          onChange={setFrom}
          options={options}
          data-testid="consistency-from"
        />
        <Select
          aria-label={t("auditor.newer")}
          placeholder={t("auditor.newer")}
          style={{ width: 160 }}
          value={to}
          onChange={setTo}
          options={options}
          data-testid="consistency-to"
        />
        <Button
          type="primary"
          loading={busy}
          onClick={() => void check()}
          disabled={from === undefined || to === undefined || from > to}
          data-testid="consistency-check"
        >
          {t("auditor.check")}
        </Button>
      </Space>
      {result !== null && (
        <div
          data-testid="consistency-result"
          data-status={result.status}
          role="status"
          style={{ marginTop: 8 }}
        >
          <Tag color={result.status === "ok" ? "green" : "red"}>
            {t(result.status === "ok" ? "verify.ok" : "verify.failed")}
          </Tag>
          {result.detail}
        </div>
      )}
    </Card>
  );
}

function CheckpointHistory({ items }: { items: CheckpointItem[] }) {
  const { t, lang } = useI18n();
  const option = useMemo(() => {
    const ordered = [...items].reverse();
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 56, right: 16, top: 16, bottom: 32 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: t("auditor.size") },
      series: [
        {
          type: "line",
          step: "end",
          showSymbol: false,
          data: ordered.map((item) => [item.created_at, item.size]),
        },
      ],
    };
  }, [items, t]);
  return (
    <Card size="small" title={t("auditor.history")}>
      <Suspense fallback={<Spin />}>
        <Chart option={option} label={t("auditor.history")} height={240} />
      </Suspense>
      <Table<CheckpointItem>
        size="small"
        rowKey={(item) => `${item.size}|${item.created_at}`}
        dataSource={items}
        pagination={{ pageSize: 20, showSizeChanger: false }}
        scroll={{ x: 700 }}
        columns={[
          {
            title: t("auditor.size"),
            dataIndex: "size",
            align: "right",
            render: (size: number) => formatNumber(size, lang),
          },
          { title: t("auditor.root"), dataIndex: "root", render: (root: string) => <code>{root}</code> },
          {
            title: t("auditor.created_at"),
            dataIndex: "created_at",
            render: (value: string) => formatDateTime(value, lang),
          },
          {
            title: t("auditor.cosignatures"),
            dataIndex: "cosignatures",
            align: "right",
            render: (n: number) => formatNumber(n, lang),
          },
        ]}
      />
    </Card>
  );
}
