import { formatMoney, type Minor } from "../i18n/format.ts";
import { useI18n } from "../i18n/index.tsx";

export function Money({ minor, currency }: { minor: Minor | null | undefined; currency: string }) {
  const { lang } = useI18n();
  if (minor === null || minor === undefined) return <span>—</span>;
  return (
    <span style={{ fontVariantNumeric: "tabular-nums", whiteSpace: "nowrap" }}>
      {formatMoney(minor, currency, lang)}
    </span>
  );
}

export function useFormat() {
  const { lang } = useI18n();
  return {
    money: (minor: Minor, currency: string) => formatMoney(minor, currency, lang),
  };
}
