import { DomainError } from "../errors.ts";

// The case state machine and the four-eyes rule, pure. The one service path
// that decides (src/service/audit/decide-case.ts) locks the case, asks `judge`
// what a decision does, and writes exactly that.

export const case_states = [
  "open",
  "claimed",
  "awaiting_second_approval",
  "rejected",
  "approved",
  "reversed",
  "adjusted",
] as const;
export type CaseState = (typeof case_states)[number];

/** States in which the case still blocks its order's funds. A rejected proposal leaves the case undecided. */
export const open_case_states: readonly CaseState[] = [
  "open",
  "claimed",
  "awaiting_second_approval",
  "rejected",
];

export type Decision = "approve" | "reverse" | "adjust";
export const decisions: readonly Decision[] = ["approve", "reverse", "adjust"];
export type Verdict = Decision | "reject";

export const decided_state: Readonly<Record<Decision, CaseState>> = {
  approve: "approved",
  reverse: "reversed",
  adjust: "adjusted",
};

/** Who acts. `person` is `user:<id>` when a user stands behind the credential, else null. */
export interface Decider {
  readonly actor: string;
  readonly person: string | null;
  readonly role: string;
}

export interface PendingDecision {
  readonly decision: Decision;
  readonly person: string;
  readonly actor: string;
  readonly reason: string;
  /** Decision-specific input (an adjustment's entries), as given. */
  readonly input: unknown;
  readonly at: string;
}

export interface CaseForDecision {
  readonly state: CaseState;
  readonly amount_minor: bigint;
  readonly claimed_by: string | null;
  readonly involved: readonly string[];
  readonly pending: PendingDecision | null;
}

export type Judgement =
  /** One person suffices: apply the decision now. */
  | { readonly outcome: "apply"; readonly decision: Decision; readonly second_of: PendingDecision | null }
  /** The first of two: record it, and wait for another person. */
  | { readonly outcome: "await_second" }
  /** The second person refused the first's proposal: nothing is applied. */
  | { readonly outcome: "reject" };

/**
 * What `verdict` by `decider` does to the case under a four-eyes threshold, or
 * the error that refuses it. A rejection of a pending proposal stops it; the
 * same person can never supply both approvals, whatever credential they use,
 * because the comparison is by person, not by session or key; and no role is
 * exempt.
 */
export function judge(
  subject: CaseForDecision,
  decider: Decider,
  verdict: Verdict,
  four_eyes_minor: bigint,
): Judgement {
  if (!open_case_states.includes(subject.state)) {
    throw new DomainError("case_closed", `the case is ${subject.state}: it takes no more decisions`, "id");
  }
  const me = decider.person ?? decider.actor;
  if (subject.involved.includes(me)) {
    throw new DomainError(
      "case_self_review",
      "this case is about your own action: another reviewer must decide it",
      "id",
    );
  }
  const needs_two = subject.amount_minor >= four_eyes_minor;
  if (needs_two && decider.person === null) {
    throw new DomainError(
      "four_eyes_person_required",
      `a case of ${subject.amount_minor} needs two people (threshold ${four_eyes_minor}); this API key belongs to no user, so it cannot take part`,
      "decision",
    );
  }
  const pending = subject.state === "awaiting_second_approval" ? subject.pending : null;
  if (verdict === "reject") {
    if (pending === null) {
      throw new DomainError(
        "case_nothing_to_reject",
        "reject refuses a first approval awaiting its second; this case has none",
        "decision",
      );
    }
    return { outcome: "reject" };
  }
  if (pending !== null) {
    if (pending.person === me) {
      throw new DomainError(
        "four_eyes_same_person",
        "you made the first decision on this case; a different person must make the second",
        "decision",
      );
    }
    if (pending.decision !== verdict) {
      throw new DomainError(
        "four_eyes_decision_mismatch",
        `the first decision was ${pending.decision}: approve it with the same decision, or reject it`,
        "decision",
      );
    }
    return { outcome: "apply", decision: verdict, second_of: pending };
  }
  if (subject.claimed_by !== null && subject.claimed_by !== me) {
    throw new DomainError("case_claimed", `the case is claimed by ${subject.claimed_by}`, "id");
  }
  return needs_two ? { outcome: "await_second" } : { outcome: "apply", decision: verdict, second_of: null };
}
