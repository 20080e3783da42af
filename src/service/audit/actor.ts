import type { Principal } from "../../core/auth/roles.ts";

/**
 * Who acts on the audit trail. `actor` is the credential (`user:<id>` for a
 * session, `key:<id>` for an API key, `cli:<os user>`); `person` is the user
 * behind it, or null for a key issued to no user. Four eyes counts persons.
 */
export interface Actor {
  actor: string;
  person: string | null;
  role: string;
}

export function actorOfPrincipal(principal: Principal): Actor {
  const person =
    principal.user_id != null
      ? `user:${principal.user_id}`
      : principal.actor.startsWith("user:")
        ? principal.actor
        : null;
  return { actor: principal.actor, person, role: principal.role };
}

export const system_actor: Actor = { actor: "system:audit", person: null, role: "system" };
