import { useId } from "react";
import { isLang, lang_names, langs, useI18n } from "../i18n/index.tsx";

/** A native select: keyboard and screen-reader friendly, and the phone's own picker. */
export function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  const id = useId();
  return (
    <span style={{ display: "inline-flex", alignItems: "center", gap: 6 }}>
      <label htmlFor={id}>{t("shell.language")}</label>
      <select
        id={id}
        data-testid="lang-switch"
        value={lang}
        onChange={(event) => {
          if (isLang(event.target.value)) setLang(event.target.value);
        }}
        style={{ padding: "4px 8px", borderRadius: 6, border: "1px solid #8c8c8c", background: "#fff" }}
      >
        {langs.map((code) => (
          <option key={code} value={code} lang={code}>
            {lang_names[code]}
          </option>
        ))}
      </select>
    </span>
  );
}
