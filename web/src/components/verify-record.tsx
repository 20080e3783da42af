import { Button, Popover, Space, Typography } from "antd";
import { type BundleVerification, toBase64, VerifyError, verifyBundle } from "clearsplit/verify";
import { useState } from "react";
import { api } from "../api/client.ts";
import { formatNumber } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";
import { pinnedKeys, useMe } from "../session.tsx";

// The Verify button: fetch the record's proof bundle from the API and check it
// here, in the browser, with the same verifier as the CLI (src/verify), against
// the log key pinned at sign-in and the witness keys the user pinned. The server
// is not trusted to say "ok": a bundle it altered fails below.

type Outcome =
  | { status: "ok"; result: BundleVerification; checkpoint_text: string }
  | { status: "failed"; reason: string };

const not_sequenced_retries_max = 5;
const retry_delay_ms = 1_000;

async function fetchBundleText(record_id: string): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api<string>(`/v1/records/${encodeURIComponent(record_id)}/proof`, { text: true });
    } catch (error) {
      // A record booked a moment ago is in the next checkpoint: wait for it.
      const pending = error instanceof Error && "code" in error && error.code === "record_not_sequenced";
      if (!pending || attempt >= not_sequenced_retries_max) throw error;
      await new Promise((resolve) => setTimeout(resolve, retry_delay_ms));
    }
  }
}

/** Verifies a record's bundle: the one given (a case trail carries its bundles), else fetched by id. */
export async function verifyRecord(tenant_id: string, record_id: string, given?: unknown): Promise<Outcome> {
  const keys = pinnedKeys(tenant_id);
  if (keys.log_key === null) return { status: "failed", reason: "no_pinned_key" };
  let text: string;
  try {
    text = given === undefined ? await fetchBundleText(record_id) : JSON.stringify(given);
  } catch (error) {
    return { status: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    const bundle = JSON.parse(text) as { checkpoint?: unknown };
    const result = await verifyBundle(bundle, [keys.log_key], keys.witness_keys);
    return {
      status: "ok",
      result,
      checkpoint_text: typeof bundle.checkpoint === "string" ? bundle.checkpoint : "",
    };
  } catch (error) {
    if (error instanceof VerifyError) return { status: "failed", reason: `${error.code}: ${error.message}` };
    return { status: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
}

export function VerifyRecord({
  record_id,
  label,
  bundle,
}: {
  record_id: string;
  label?: string;
  /** The bundle, when the page already has it; checked here all the same. */
  bundle?: unknown;
}) {
  const { t, lang } = useI18n();
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = async () => {
    setBusy(true);
    try {
      setOutcome(await verifyRecord(me.tenant_id, record_id, bundle ?? undefined));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Space direction="vertical" size={4} style={{ maxWidth: 460 }}>
      <Button
        size="small"
        loading={busy}
        onClick={() => void run()}
        data-testid="verify-record"
        aria-label={`${t("verify.button")} ${label ?? record_id}`}
      >
        {t("verify.button")}
      </Button>
      {outcome !== null && (
        <div
          data-testid="verify-result"
          data-status={outcome.status}
          role="status"
          style={{
            border: `1px solid ${outcome.status === "ok" ? "#237804" : "#a8071a"}`,
            background: outcome.status === "ok" ? "#f6ffed" : "#fff1f0",
            borderRadius: 6,
            padding: "6px 10px",
            fontSize: 13,
          }}
        >
          {outcome.status === "ok" ? (
            <Proven outcome={outcome} lang={lang} />
          ) : (
            <>
              <Typography.Text strong style={{ color: "#a8071a" }}>
                {t("verify.failed")}
              </Typography.Text>
              <div style={{ wordBreak: "break-word" }}>
                {outcome.reason === "no_pinned_key" ? t("verify.no_pinned_key") : outcome.reason}
              </div>
            </>
          )}
        </div>
      )}
    </Space>
  );
}

function Proven({
  outcome,
  lang,
}: {
  outcome: Extract<Outcome, { status: "ok" }>;
  lang: "zh-CN" | "zh-TW" | "en";
}) {
  const { t } = useI18n();
  const { result } = outcome;
  const cosigners = result.cosignedBy.map((c) => c.name);
  return (
    <>
      <Typography.Text strong style={{ color: "#237804" }}>
        {t("verify.ok")}
      </Typography.Text>
      <dl className="facts">
        <dt>{t("verify.leaf_index")}</dt>
        <dd data-testid="verify-leaf-index">{formatNumber(result.leafIndex, lang)}</dd>
        <dt>{t("verify.tree_size")}</dt>
        <dd data-testid="verify-tree-size">{formatNumber(result.treeSize, lang)}</dd>
        <dt>{t("verify.checkpoint")}</dt>
        <dd>
          <Popover content={<pre style={{ margin: 0, fontSize: 12 }}>{outcome.checkpoint_text}</pre>}>
            <code>{result.origin}</code> · <code>{toBase64(result.rootHash).slice(0, 16)}…</code>
          </Popover>
        </dd>
        <dt>{t("verify.signed_by")}</dt>
        <dd>{result.verifiedBy.join(", ")}</dd>
        <dt>{t("verify.cosigners")}</dt>
        <dd data-testid="verify-cosigners">
          {cosigners.length === 0 ? t("verify.no_cosigners") : cosigners.join(", ")}
        </dd>
      </dl>
    </>
  );
}
