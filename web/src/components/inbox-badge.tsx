import { Badge } from "antd";
import { useEffect } from "react";
import { useI18n } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { inbox_changed_event } from "./kit.tsx";
import { useApi } from "./use-api.ts";

// The header's unread count: read on sign-in, every minute, and whenever a
// page says the inbox changed.
const refresh_ms = 60_000;

export function InboxBadge() {
  const { t } = useI18n();
  const { data, reload } = useApi<{ unread_count: number }>("/v1/inbox", { limit: 1, unread: "true" });
  useEffect(() => {
    const timer = setInterval(reload, refresh_ms);
    window.addEventListener(inbox_changed_event, reload);
    return () => {
      clearInterval(timer);
      window.removeEventListener(inbox_changed_event, reload);
    };
  }, [reload]);
  const count = data?.unread_count ?? 0;
  return (
    <Link
      href="/inbox"
      data-testid="inbox-link"
      data-count={count}
      aria-label={t("inbox.header_label", { count })}
    >
      <Badge count={count} size="small">
        <span style={{ padding: "0 6px" }}>{t("nav.inbox")}</span>
      </Badge>
    </Link>
  );
}
