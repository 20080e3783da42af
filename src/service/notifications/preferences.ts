import type { Principal } from "../../core/auth/roles.ts";
import { DomainError } from "../../core/errors.ts";
import { preferences_per_request_max } from "../../core/limits.ts";
import {
  type Delivery,
  event_types,
  eventTypeSpec,
  isDelivery,
  isLanguage,
  type Language,
} from "../../core/notifications/event-types.ts";
import { defaultDelivery } from "../../core/notifications/recipients.ts";
import { selectPreferences, upsertPreferences } from "../../store/notification-preferences-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectUserContact, updateUserLanguage } from "../../store/users-sql.ts";
import type { ServiceContext } from "../context.ts";
import { userOf } from "./inbox.ts";

// Per user and event type: inbox, e-mail, both, a daily digest, or nothing.
// A preference chooses the channel; it never widens what the user may see.

export interface PreferenceView {
  language: Language;
  email: string | null;
  preferences: { event_type: string; delivery: Delivery; default: Delivery; overridden: boolean }[];
}

function requireUser(principal: Principal): string {
  const user_id = userOf(principal);
  if (user_id === null)
    throw new DomainError(
      "user_required",
      "notification preferences belong to console users; log in as a user",
    );
  return user_id;
}

/** A user's preferences; for an API key (no user), the role's defaults. */
export async function getPreferences(ctx: ServiceContext, principal: Principal): Promise<PreferenceView> {
  const user_id = userOf(principal) ?? "";
  const user =
    user_id === ""
      ? { language: "zh-CN", email: null }
      : await selectUserContact(ctx.db, principal.tenant_id, user_id);
  if (user === undefined) throw new DomainError("user_not_found", `no user ${user_id}`);
  const rows = user_id === "" ? [] : await selectPreferences(ctx.db, principal.tenant_id, user_id);
  const chosen = new Map(rows.map((row) => [row.event_type, row.delivery]));
  const recipient = {
    id: user_id,
    role: principal.role,
    party_id: principal.party_id,
    email: user.email,
    language: isLanguage(user.language) ? user.language : "zh-CN",
  } as const;
  const preferences = [...event_types.keys()].map((event_type) => {
    // "Of its own party's events": for a party user the default assumes the event names its party.
    const fallback =
      defaultDelivery(
        { type: event_type, party_ids: principal.party_id ? [principal.party_id] : [] },
        recipient,
      ) ?? "none";
    const picked = chosen.get(event_type);
    const delivery = picked !== undefined && isDelivery(picked) ? picked : fallback;
    return { event_type, delivery, default: fallback, overridden: picked !== undefined };
  });
  return { language: recipient.language, email: user.email, preferences };
}

export interface PreferencesInput {
  language?: string;
  preferences?: { event_type: string; delivery: string }[];
}

export async function setPreferences(
  ctx: ServiceContext,
  principal: Principal,
  input: PreferencesInput,
): Promise<PreferenceView> {
  const user_id = requireUser(principal);
  const items = input.preferences ?? [];
  if (items.length > preferences_per_request_max)
    throw new DomainError(
      "preferences_too_many",
      `at most ${preferences_per_request_max} preferences per request`,
      "preferences",
    );
  if (input.language !== undefined && !isLanguage(input.language))
    throw new DomainError("language_invalid", "language must be zh-CN, zh-TW or en", "language");
  for (const item of items) {
    if (!event_types.has(item.event_type))
      throw new DomainError(
        "event_type_unknown",
        `event type ${JSON.stringify(item.event_type).slice(0, 80)} is not known`,
        "preferences",
      );
    if (!isDelivery(item.delivery))
      throw new DomainError(
        "delivery_invalid",
        "delivery must be inbox, email, both, digest or none",
        "preferences",
      );
    eventTypeSpec(item.event_type);
  }
  const now = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    if (input.language !== undefined)
      await updateUserLanguage(tx, principal.tenant_id, user_id, input.language, now);
    await upsertPreferences(tx, principal.tenant_id, user_id, items, now);
  });
  return getPreferences(ctx, principal);
}
