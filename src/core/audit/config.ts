import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { four_eyes_minor_max, rules_per_config_max } from "../limits.ts";
import { canonicalJsonSha256Hex } from "../sha256.ts";
import {
  booking_rules,
  history_rules,
  type RuleDefinition,
  rule_registry,
  timeSkewFinding,
} from "./rules.ts";
import type { BookingFacts, CompletionFacts, HistoryFacts, Hit, RuleParams } from "./types.ts";

// A tenant's rule configuration: which rules are on, with which thresholds,
// and from what amount a decision needs two people. It is a versioned
// document, normalised (every parameter present, rules in id order) and named
// by the SHA-256 of its RFC 8785 form, like a split policy.

export interface AuditConfig {
  /** A decision on a case worth at least this (minor units of the case's currency) needs two people. */
  readonly four_eyes_minor: number;
  /** The rules that are on, by id, with every parameter. */
  readonly rules: readonly { readonly id: string; readonly params: RuleParams }[];
}

export interface LoadedConfig {
  readonly config: AuditConfig;
  readonly hash: string;
}

/** Validates and normalises a configuration document; every error names its field. */
export function parseAuditConfig(body: unknown): AuditConfig {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalid("body", "the configuration must be a JSON object");
  const object = body as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (key !== "four_eyes_minor" && key !== "rules") throw invalid(key, `unknown field ${key}`);
  }
  const four_eyes_minor = object.four_eyes_minor;
  if (
    typeof four_eyes_minor !== "number" ||
    !Number.isSafeInteger(four_eyes_minor) ||
    four_eyes_minor < 0 ||
    four_eyes_minor > four_eyes_minor_max
  )
    throw invalid("four_eyes_minor", "four_eyes_minor must be a non-negative integer (minor units)");
  if (!Array.isArray(object.rules)) throw invalid("rules", "rules must be an array");
  if (object.rules.length > rules_per_config_max)
    throw invalid("rules", `rules holds at most ${rules_per_config_max} entries`);
  const seen = new Set<string>();
  const rules = object.rules.map((entry, index) => {
    const field = `rules[${index}]`;
    const parsed = parseRuleEntry(entry, field);
    if (seen.has(parsed.id)) throw invalid(`${field}.id`, `rule ${parsed.id} is listed twice`);
    seen.add(parsed.id);
    return parsed;
  });
  rules.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { four_eyes_minor, rules };
}

function parseRuleEntry(entry: unknown, field: string): { id: string; params: RuleParams } {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    throw invalid(field, `${field} must be an object with an id`);
  const { id, params, ...rest } = entry as Record<string, unknown>;
  for (const key of Object.keys(rest)) throw invalid(`${field}.${key}`, `unknown field ${key}`);
  if (typeof id !== "string") throw invalid(`${field}.id`, `${field}.id must be a rule id`);
  const rule = rule_registry.get(id);
  if (rule === undefined) {
    throw new DomainError(
      "audit_rule_unknown",
      `${field}.id: no rule ${JSON.stringify(id.slice(0, 80))}; known rules: ${[...rule_registry.keys()].join(", ")}`,
      `${field}.id`,
    );
  }
  const given = params ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given))
    throw invalid(`${field}.params`, `${field}.params must be an object`);
  const out: Record<string, number> = {};
  for (const key of Object.keys(given)) {
    if (rule.params[key] === undefined)
      throw invalid(`${field}.params.${key}`, `rule ${id} has no parameter ${key}`);
  }
  for (const [name, spec] of Object.entries(rule.params).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const value = (given as Record<string, unknown>)[name] ?? spec.default;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
      throw invalid(
        `${field}.params.${name}`,
        `${field}.params.${name} must be an integer from ${spec.min} to ${spec.max} (${spec.meaning})`,
      );
    }
    out[name] = value;
  }
  return { id, params: out };
}

function invalid(field: string, message: string): DomainError {
  return new DomainError("audit_config_invalid", message, field);
}

/** The document as stored and hashed: normalised, keys in canonical order. */
export function auditConfigJson(config: AuditConfig): unknown {
  return { four_eyes_minor: config.four_eyes_minor, rules: config.rules.map((r) => ({ ...r })) };
}

export function auditConfigHash(config: AuditConfig): string {
  return canonicalJsonSha256Hex(auditConfigJson(config));
}

export function loadAuditConfig(body: unknown): LoadedConfig {
  const config = parseAuditConfig(body);
  return { config, hash: auditConfigHash(config) };
}

/** SHA-256 of a hit's inputs in RFC 8785 form: what a replay must reproduce. */
export function inputsSha256(inputs: unknown): string {
  return canonicalJsonSha256Hex(inputs);
}

function enabled<F>(
  config: AuditConfig,
  rules: readonly RuleDefinition<F>[],
): { rule: RuleDefinition<F>; params: RuleParams }[] {
  const by_id = new Map(config.rules.map((entry) => [entry.id, entry.params]));
  return rules.flatMap((rule) => {
    const params = by_id.get(rule.id);
    return params === undefined ? [] : [{ rule, params }];
  });
}

/** The booking-stage rules over one freshly booked order. */
export function evaluateBooking(config: AuditConfig, facts: BookingFacts): Hit[] {
  const hits: Hit[] = [];
  for (const { rule, params } of enabled(config, booking_rules)) {
    const finding = rule.check(params, facts);
    if (finding === null) continue;
    hits.push({
      ...finding,
      rule_id: rule.id,
      order_id: facts.order_id,
      party_id: facts.merchant_id,
      amount_minor: facts.paid_minor,
      currency: facts.currency,
      dedupe_key: `${rule.id}:order:${facts.order_id}`,
    });
  }
  return hits;
}

/**
 * The completion's share of `event_time_skew`: the stated `completed_at`
 * against the arrival of the report. The rule's parameters are the booking
 * stage's; its dedupe key names the completion, so both times can hit.
 */
export function evaluateCompletion(config: AuditConfig, facts: CompletionFacts): Hit[] {
  const params = ruleParams(config, "event_time_skew");
  if (params === undefined) return [];
  const finding = timeSkewFinding(
    "completed_at",
    facts.completed_at_ms,
    facts.arrived_at_ms,
    params.skew_ms_max!,
  );
  if (finding === null) return [];
  return [
    {
      ...finding,
      rule_id: "event_time_skew",
      order_id: facts.order_id,
      party_id: facts.merchant_id,
      amount_minor: facts.paid_minor,
      currency: facts.currency,
      dedupe_key: `event_time_skew:order:${facts.order_id}:completed`,
    },
  ];
}

/**
 * The history-stage rules over one event's facts. `source` names the event
 * (its id), so that a redelivered event yields the same dedupe keys.
 */
export function evaluateHistory(config: AuditConfig, facts: HistoryFacts, source: string): Hit[] {
  assert(source.length > 0, "a history evaluation names its source");
  const subject = facts.order ?? facts.refund;
  if (subject === undefined) return [];
  const hits: Hit[] = [];
  for (const { rule, params } of enabled(config, history_rules)) {
    const finding = rule.check(params, facts);
    if (finding === null) continue;
    const party_level = rule.level === "party";
    hits.push({
      ...finding,
      rule_id: rule.id,
      order_id: party_level ? null : subject.order_id,
      party_id: subject.merchant_id,
      amount_minor: party_level ? partyAmount(finding.inputs) : subject.paid_minor,
      currency: subject.currency,
      dedupe_key: `${rule.id}:${party_level ? `party:${subject.merchant_id}` : `order:${subject.order_id}`}:${source}`,
    });
  }
  return hits;
}

function partyAmount(inputs: Readonly<Record<string, unknown>>): bigint {
  const debt = inputs.debt_minor;
  return typeof debt === "number" ? BigInt(debt) : 0n;
}

/** A rule's parameters in a configuration, or undefined when the rule is off. */
export function ruleParams(config: AuditConfig, rule_id: string): RuleParams | undefined {
  return config.rules.find((entry) => entry.id === rule_id)?.params;
}
