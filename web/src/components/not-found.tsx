import { Button, Result } from "antd";
import { useI18n } from "../i18n/index.tsx";
import { navigate } from "../router.tsx";

/** What a user sees for anything that does not exist or that they may not see: the same page, on purpose. */
export function NotFound() {
  const { t } = useI18n();
  return (
    <div data-testid="not-found">
      <Result
        status="404"
        title={t("not_found.title")}
        subTitle={t("not_found.detail")}
        extra={
          <Button type="primary" onClick={() => navigate("/")}>
            {t("not_found.home")}
          </Button>
        }
      />
    </div>
  );
}
