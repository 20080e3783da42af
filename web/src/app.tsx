import { App as AntApp, Button, ConfigProvider, Layout, Menu, Result, Spin, Typography } from "antd";
import en_US from "antd/locale/en_US";
import zh_CN from "antd/locale/zh_CN";
import zh_TW from "antd/locale/zh_TW";
import { type ComponentType, lazy, Suspense, useMemo, useState } from "react";
import { ErrorBoundary } from "./components/error-boundary.tsx";
import { InboxBadge } from "./components/inbox-badge.tsx";
import { LangSwitch } from "./components/lang-switch.tsx";
import { NotFound } from "./components/not-found.tsx";
import { I18nProvider, type Lang, useI18n } from "./i18n/index.tsx";
import { homeOf, type PageModule, type PageProps, pages } from "./pages/registry.ts";
import { SignIn } from "./pages/sign-in.tsx";
import { Link, matchPath, navigate, useLocation } from "./router.tsx";
import { SessionProvider, useSession } from "./session.tsx";

const ant_locales: Record<Lang, typeof en_US> = { "zh-CN": zh_CN, "zh-TW": zh_TW, en: en_US };

// Contrast: the primary colour passes WCAG AA (4.5:1) on white for text and links.
const theme = { token: { colorPrimary: "#0b57d0", colorLink: "#0b57d0", borderRadius: 6 } };

export function App() {
  return (
    <I18nProvider>
      <Localised />
    </I18nProvider>
  );
}

function Localised() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={ant_locales[lang]} theme={theme}>
      <AntApp>
        <SessionProvider>
          <Root />
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  );
}

function Root() {
  const { state } = useSession();
  const { path } = useLocation();
  if (state.status === "loading") return <Spin fullscreen />;
  if (state.status === "signed_out") return <SignIn />;
  if (path === "/" || path === "/sign-in") {
    navigate(homeOf(state.me.role) + window.location.search, { replace: true });
    return null;
  }
  return <Shell />;
}

const lazy_pages = new Map<string, ComponentType<PageProps>>();
function pageComponent(page: PageModule): ComponentType<PageProps> {
  let component = lazy_pages.get(page.id);
  if (component === undefined) {
    component = lazy(page.load);
    lazy_pages.set(page.id, component);
  }
  return component;
}

function Shell() {
  const { t } = useI18n();
  const { state, signOut } = useSession();
  const { path } = useLocation();
  const [collapsed, setCollapsed] = useState(false);
  const me = state.status === "signed_in" ? state.me : null;
  const matched = useMemo(() => {
    for (const page of pages) {
      const params = matchPath(page.path, path);
      if (params !== null) return { page, params };
    }
    return null;
  }, [path]);
  if (me === null) return null;
  const menu = pages
    .filter((page) => page.nav !== undefined && page.roles.includes(me.role))
    .map((page) => ({ key: page.path, label: <Link href={page.path}>{t(page.nav!)}</Link> }));
  const selected = menu.find((item) => path === item.key || path.startsWith(`${item.key}/`))?.key;
  const Page = matched?.page.roles.includes(me.role) ? pageComponent(matched.page) : null;
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <a className="skip-link" href="#main">
        {t("shell.skip_to_content")}
      </a>
      <Layout.Sider
        breakpoint="lg"
        collapsedWidth={0}
        collapsed={collapsed}
        onCollapse={setCollapsed}
        theme="light"
        width={220}
        style={{ borderRight: "1px solid #e5e5e5" }}
      >
        <div style={{ padding: "16px 20px", fontWeight: 700, fontSize: 18 }}>
          <Link href={homeOf(me.role)} style={{ color: "inherit" }}>
            {t("app.name")}
          </Link>
        </div>
        <nav aria-label={t("shell.navigation")}>
          <Menu
            mode="inline"
            items={menu}
            selectedKeys={selected ? [selected] : []}
            onClick={() => {
              if (window.innerWidth < 992) setCollapsed(true);
            }}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: "#fff",
            padding: "0 16px",
            display: "flex",
            gap: 12,
            alignItems: "center",
            justifyContent: "flex-end",
            flexWrap: "wrap",
            borderBottom: "1px solid #e5e5e5",
            height: "auto",
            minHeight: 64,
          }}
        >
          <Typography.Text data-testid="whoami" style={{ marginRight: "auto" }}>
            {t(`role.${me.role}`)}
            {me.party_id ? ` · ${me.party_id}` : ""} · {me.user?.email ?? me.actor}
          </Typography.Text>
          <InboxBadge />
          <LangSwitch />
          <Button onClick={() => void signOut()} data-testid="sign-out">
            {t("shell.sign_out")}
          </Button>
        </Layout.Header>
        <Layout.Content id="main" tabIndex={-1} style={{ padding: 16, maxWidth: 1400, width: "100%" }}>
          {Page === null ? (
            <NotFound />
          ) : (
            <ErrorBoundary reset_key={path} fallback={(error) => <ErrorResult error={error} />}>
              <Suspense fallback={<Spin style={{ margin: 48 }} />}>
                <Page params={matched!.params} />
              </Suspense>
            </ErrorBoundary>
          )}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export function ErrorResult({ error }: { error: unknown }) {
  const { t } = useI18n();
  return (
    <Result
      status="error"
      title={t("error.title")}
      subTitle={error instanceof Error ? error.message : String(error)}
    />
  );
}
