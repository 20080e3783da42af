import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { Lang } from "./format.ts";
import { en } from "./messages/en.ts";
import { zh_CN } from "./messages/zh-CN.ts";
import { zh_TW } from "./messages/zh-TW.ts";

export type { Lang } from "./format.ts";
export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

export const langs: readonly Lang[] = ["zh-CN", "zh-TW", "en"];
export const catalogues: Record<Lang, Catalogue> = { en, "zh-CN": zh_CN, "zh-TW": zh_TW };
export const lang_names: Record<Lang, string> = { "zh-CN": "简体中文", "zh-TW": "繁體中文", en: "English" };
const storage_key = "clearsplit.lang";

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (langs as readonly string[]).includes(value);
}

/** `?lang=` on any URL wins and is remembered; then the remembered choice; then the browser's languages. */
export function initialLang(): Lang {
  const from_url = new URLSearchParams(window.location.search).get("lang");
  if (isLang(from_url)) {
    localStorage.setItem(storage_key, from_url);
    return from_url;
  }
  const stored = localStorage.getItem(storage_key);
  if (isLang(stored)) return stored;
  for (const wanted of navigator.languages ?? []) {
    const lower = wanted.toLowerCase();
    if (lower.startsWith("zh-tw") || lower.startsWith("zh-hk") || lower.includes("hant")) return "zh-TW";
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "zh-CN";
}

/** Replaces `{name}` placeholders. */
export function interpolate(text: string, vars?: Record<string, string | number>): string {
  if (vars === undefined) return text;
  return text.replace(/\{(\w+)\}/g, (match, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : match,
  );
}

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(storage_key, next);
    const url = new URL(window.location.href);
    if (url.searchParams.has("lang")) {
      url.searchParams.set("lang", next);
      window.history.replaceState(window.history.state, "", url);
    }
    setLangState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  // A ?lang= added by a link inside the app (or history navigation) applies too.
  useEffect(() => {
    const sync = () => {
      const from_url = new URLSearchParams(window.location.search).get("lang");
      if (isLang(from_url)) setLang(from_url);
    };
    window.addEventListener("popstate", sync);
    return () => window.removeEventListener("popstate", sync);
  }, [setLang]);
  const value = useMemo<I18n>(() => {
    const catalogue = catalogues[lang];
    return { lang, setLang, t: (key, vars) => interpolate(catalogue[key] ?? key, vars) };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error("useI18n outside I18nProvider");
  return value;
}
