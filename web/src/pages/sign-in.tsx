import { Alert, Button, Card, Form, Input, Typography } from "antd";
import { useState } from "react";
import { ApiError } from "../api/client.ts";
import { LangSwitch } from "../components/lang-switch.tsx";
import { useI18n } from "../i18n/index.tsx";
import { lastTenant, useSession } from "../session.tsx";

interface Fields {
  tenant: string;
  login: string;
  password: string;
}

export function SignIn() {
  const { t } = useI18n();
  const { signIn } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (fields: Fields) => {
    setBusy(true);
    setError(null);
    try {
      await signIn(fields);
    } catch (reason) {
      if (reason instanceof ApiError && reason.status === 401) setError(t("sign_in.wrong"));
      else if (reason instanceof ApiError && reason.status === 429) setError(t("sign_in.locked"));
      else setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main
      style={{
        minHeight: "100vh",
        display: "grid",
        placeItems: "center",
        padding: 16,
        background: "#f5f5f5",
      }}
    >
      <Card style={{ width: "100%", maxWidth: 400 }}>
        <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", gap: 8 }}>
          <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
            {t("app.name")}
          </Typography.Title>
          <LangSwitch />
        </div>
        <Typography.Paragraph type="secondary">{t("sign_in.intro")}</Typography.Paragraph>
        <Form<Fields>
          layout="vertical"
          initialValues={{ tenant: lastTenant(), login: "", password: "" }}
          onFinish={(fields) => void submit(fields)}
          requiredMark={false}
        >
          <Form.Item
            label={t("sign_in.tenant")}
            name="tenant"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input name="tenant" autoComplete="organization" autoCapitalize="none" />
          </Form.Item>
          <Form.Item
            label={t("sign_in.login")}
            name="login"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input name="login" autoComplete="username" autoCapitalize="none" inputMode="email" />
          </Form.Item>
          <Form.Item
            label={t("sign_in.password")}
            name="password"
            rules={[{ required: true, message: t("sign_in.required") }]}
          >
            <Input.Password name="password" autoComplete="current-password" />
          </Form.Item>
          {error !== null && (
            <Alert type="error" message={error} showIcon style={{ marginBottom: 16 }} role="alert" />
          )}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="sign-in">
            {t("sign_in.submit")}
          </Button>
        </Form>
      </Card>
    </main>
  );
}
