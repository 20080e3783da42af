// Who may do what is decided per route from the caller's role; merchant,
// supplier and party principals are additionally bound to one party.
export const roles = [
  "platform_admin",
  "finance",
  "reviewer",
  "auditor",
  "merchant",
  "supplier",
  "integration",
  // Any other party that receives legs (a referrer, the logistics company, the
  // tax authority, a PSP): sees and verifies only its own shares, with the same
  // isolation as a merchant or a supplier (issue 12, docs/security.md).
  "party",
] as const;
export type Role = (typeof roles)[number];

export const party_scoped_roles: ReadonlySet<Role> = new Set(["merchant", "supplier", "party"]);

export interface Principal {
  tenant_id: string;
  role: Role;
  /** Set for party-scoped roles: the only party whose data the caller may see. */
  party_id: string | null;
  /** Who acts, for audit trails: `key:<id>` or `user:<id>`. */
  actor: string;
  /** The user behind the credential: a session's user, or the user an API key was issued for. */
  user_id?: string | null;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}
