import { App, Button, Space, Typography } from "antd";
import { type ReactNode, useCallback, useState } from "react";
import { errorText, type Query, withQuery } from "../api/client.ts";
import { type MessageKey, useI18n } from "../i18n/index.tsx";

// Small pieces every page uses: a title, a cursor pager, a download link, and
// an action runner that reports success or the API's error in the user's language.

export function PageTitle({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <Space wrap style={{ justifyContent: "space-between", width: "100%" }}>
      <Typography.Title level={2} style={{ margin: 0 }}>
        {children}
      </Typography.Title>
      {extra}
    </Space>
  );
}

/** A trail of cursors, so Previous works without a server "previous". */
export function useCursorTrail(): {
  cursor: string | undefined;
  trail: string[];
  setTrail: (trail: string[]) => void;
} {
  const [trail, setTrail] = useState<string[]>([]);
  return { cursor: trail[trail.length - 1], trail, setTrail };
}

export function Pager({
  trail,
  setTrail,
  next,
}: {
  trail: string[];
  setTrail: (trail: string[]) => void;
  next: string | null;
}) {
  const { t } = useI18n();
  return (
    <Space>
      <Button disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
        {t("page.previous")}
      </Button>
      <Button disabled={next === null} onClick={() => next && setTrail([...trail, next])}>
        {t("page.next")}
      </Button>
    </Space>
  );
}

/** A file from the API: the browser sends the session cookie with a same-origin GET. */
export function Download({ path, query, children }: { path: string; query?: Query; children: ReactNode }) {
  return (
    <a href={withQuery(path, query)} download>
      {children}
    </a>
  );
}

/** Runs a write; shows the success message, or the API's error, and returns whether it worked. */
export function useAction(): {
  busy: boolean;
  run: (action: () => Promise<unknown>, done?: MessageKey) => Promise<boolean>;
} {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (action: () => Promise<unknown>, done?: MessageKey) => {
      setBusy(true);
      try {
        await action();
        if (done !== undefined) message.success(t(done));
        return true;
      } catch (error) {
        message.error(errorText(error));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [message, t],
  );
  return { busy, run };
}

/** Announces that the inbox changed, so the header's unread count reloads. */
export const inbox_changed_event = "clearsplit:inbox-changed";
export function announceInboxChanged(): void {
  window.dispatchEvent(new Event(inbox_changed_event));
}
