import { assert } from "../assert.ts";
import { party_scoped_roles, type Role } from "../auth/roles.ts";
import { type Delivery, eventTypeSpec, type Language } from "./event-types.ts";

// Who is told of an event, and how: a pure decision over the event, the
// tenant's users and their preferences. A user is told only of what its role
// and party may see: party-scoped users of the event's own parties, platform
// users of the whole tenant. A preference overrides the type's default, but
// never widens what the user may see.

export interface Recipient {
  id: string;
  role: Role;
  party_id: string | null;
  email: string | null;
  language: Language;
}

export interface TellEvent {
  type: string;
  party_ids: readonly string[];
  /** A payload's `user_ids` addresses the event to those users only (a scheduled report's owner). */
  payload?: unknown;
}

/** The users an event is addressed to, or null when it is for everyone who may see it. */
export function addressedUsers(event: TellEvent): ReadonlySet<string> | null {
  const payload = event.payload;
  if (typeof payload !== "object" || payload === null) return null;
  const ids = (payload as { user_ids?: unknown }).user_ids;
  if (!Array.isArray(ids) || ids.length === 0) return null;
  return new Set(ids.filter((id): id is string => typeof id === "string"));
}

/** user id → event type → delivery. */
export type PreferenceMap = ReadonlyMap<string, ReadonlyMap<string, Delivery>>;

export interface Telling {
  user: Recipient;
  inbox: boolean;
  /** "now": one mail per event; "digest": part of the next daily mail. */
  email: "now" | "digest" | null;
}

/** The default delivery of a type for a user who may see the event, or null when the user may not. */
export function defaultDelivery(event: TellEvent, user: Recipient): Delivery | null {
  const spec = eventTypeSpec(event.type);
  const addressed = addressedUsers(event);
  if (addressed !== null && !addressed.has(user.id)) return null;
  if (party_scoped_roles.has(user.role)) {
    assert(user.party_id !== null, `a ${user.role} user has a party`);
    return event.party_ids.includes(user.party_id) ? spec.party_default : null;
  }
  // An addressed platform user is told whatever its role: it asked for this (it scheduled the report).
  if (addressed !== null) return spec.platform_default;
  return spec.platform_roles.includes(user.role) ? spec.platform_default : "none";
}

export function tellingsOf(
  event: TellEvent,
  users: readonly Recipient[],
  preferences: PreferenceMap,
): Telling[] {
  const tellings: Telling[] = [];
  for (const user of users) {
    const fallback = defaultDelivery(event, user);
    if (fallback === null) continue;
    const delivery = preferences.get(user.id)?.get(event.type) ?? fallback;
    const inbox = delivery === "inbox" || delivery === "both";
    const wants_mail = delivery === "email" || delivery === "both" || delivery === "digest";
    const email = wants_mail && user.email !== null ? (delivery === "digest" ? "digest" : "now") : null;
    // With no address, a mail-only preference falls back to the inbox: nothing is silently dropped.
    const inbox_fallback = wants_mail && user.email === null;
    if (inbox || email !== null || inbox_fallback)
      tellings.push({ user, inbox: inbox || inbox_fallback, email });
  }
  return tellings;
}

/** The next UTC midnight after `now`: when a day's digest goes out. */
export function nextDigestAt(now: Date): Date {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  assert(next.getTime() > now.getTime(), "the digest time is in the future");
  return next;
}
