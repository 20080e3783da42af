import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { en } from "./messages/en.ts";
import { zh_CN } from "./messages/zh-CN.ts";
import { zh_TW } from "./messages/zh-TW.ts";

// No untranslated key in any language: the three catalogues have the same keys,
// no empty message, the same {placeholders}; every key the console's source
// names exists; and the Chinese catalogues are not English left in place.

const catalogues = { en, "zh-CN": zh_CN, "zh-TW": zh_TW } as Record<string, Record<string, string>>;
const keys = Object.keys(en).sort();

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("message catalogues", () => {
  for (const [lang, catalogue] of Object.entries(catalogues)) {
    it(`${lang} has exactly the English keys, none empty, with the same placeholders`, () => {
      expect(Object.keys(catalogue).sort()).toEqual(keys);
      for (const key of keys) {
        expect(catalogue[key]!.trim(), `${lang} ${key}`).not.toBe("");
        expect(placeholders(catalogue[key]!), `${lang} ${key}`).toEqual(
          placeholders(en[key as keyof typeof en]),
        );
      }
    });
  }

  it("the Chinese catalogues are translated: a message with letters in English is not the same text in Chinese", () => {
    // Names and codes that are the same in every language.
    const same_everywhere = new Set(["parties.id", "policies.hash"]);
    for (const lang of ["zh-CN", "zh-TW"]) {
      for (const key of keys) {
        if (same_everywhere.has(key)) continue;
        expect(catalogues[lang]![key], `${lang} ${key} is still English`).not.toBe(
          en[key as keyof typeof en],
        );
      }
    }
    // zh-TW is its own catalogue, not a copy of zh-CN.
    const identical = keys.filter(
      (key) => zh_CN[key as keyof typeof zh_CN] === zh_TW[key as keyof typeof zh_TW],
    );
    expect(identical.length).toBeLessThan(keys.length / 2);
  });

  it("every key the console's source names, literally or by family, exists", () => {
    const sources = sourceFiles(join(import.meta.dirname, "..")).map((path) => readFileSync(path, "utf8"));
    const named = new Set<string>();
    for (const text of sources) {
      for (const match of text.matchAll(/\bt\(\s*"([a-z_]+\.[a-z_]+)"/g)) named.add(match[1]!);
      for (const match of text.matchAll(
        /"((?:nav|balance|dashboard|refund|order|policies|keys|verify)\.[a-z_]+)"/g,
      ))
        named.add(match[1]!);
    }
    expect(named.size).toBeGreaterThan(100);
    for (const key of named) expect(keys, `the source names ${key}`).toContain(key);
    // Families built at run time from API values: every value the API can send has a message.
    const families: Record<string, readonly string[]> = {
      role: [
        "platform_admin",
        "finance",
        "reviewer",
        "auditor",
        "merchant",
        "supplier",
        "integration",
        "party",
      ],
      state: ["held", "completed", "released", "partially_refunded", "refunded"],
      party_kind: ["platform", "merchant", "supplier", "referrer", "psp", "tax", "logistics"],
      purpose: [
        "held",
        "available",
        "in_transit",
        "payable",
        "revenue",
        "fees",
        "clearing",
        "debt",
        "paid_out",
        "expense",
      ],
      kind: ["split", "release", "refund_reversal", "chargeback_reversal"],
      case_state: [
        "open",
        "claimed",
        "awaiting_second_approval",
        "rejected",
        "approved",
        "reversed",
        "adjusted",
      ],
      case_kind: ["rule", "manual", "dispute"],
      audit_action: [
        "claim",
        "comment",
        "config_draft",
        "config_publish",
        "decide",
        "dispute",
        "hit",
        "open",
        "party_settlement_changed",
        "reject",
      ],
      decision: ["approve", "reverse", "adjust", "reject"],
      payout_state: ["in_transit", "paid_out", "failed", "carried_over", "netted"],
      recon_status: [
        "matched",
        "missing_in_ledger",
        "missing_in_bill",
        "amount_mismatch",
        "fee_mismatch",
        "duplicate",
      ],
      report: ["statement", "platform_revenue", "split_detail", "settlement_status"],
      dataset: ["entries", "orders", "legs"],
      field: [
        "day",
        "month",
        "party_id",
        "purpose",
        "kind",
        "currency",
        "account_id",
        "order_id",
        "merchant_id",
        "role",
        "rule_id",
        "category",
        "amount_minor",
        "credits_minor",
        "debits_minor",
        "count",
        "paid_minor",
        "refunded_minor",
        "orders",
      ],
      schedule: ["daily", "weekly", "monthly"],
      period: ["previous_day", "previous_week", "previous_month"],
      delivery: ["pending", "succeeded", "dead", "cancelled"],
      "settlement.trigger": ["cli", "api", "scheduler"],
      "webhooks.status": ["enabled", "disabled"],
    };
    for (const [family, values] of Object.entries(families))
      for (const value of values)
        expect(keys).toContain(family.includes(".") ? `${family}_${value}` : `${family}.${value}`);
  });
});
