import { party_scoped_roles, type Role } from "../../core/auth/roles.ts";
import { generatePassword } from "../auth/password.ts";
import { createUser, findUserByLogin } from "../auth/users.ts";
import type { ServiceContext } from "../context.ts";

// Console logins for the demo: one user per role, so the banner can say "sign
// in as finance with …". Passwords are generated per seed (never a published
// default) and kept with the demo's API keys in the demo credentials file.

export interface DemoLogin {
  role: Role;
  party_id: string | null;
  login: string;
  password: string;
}

export const demo_login_domain = "demo.clearsplit.test";

/** Creates the demo's console users; a login that already exists is left alone and not returned. */
export async function createDemoLogins(
  ctx: ServiceContext,
  tenant_id: string,
  parties: { merchant_id: string | null; supplier_id: string | null; referrer_id?: string | null },
): Promise<DemoLogin[]> {
  const { merchant_id, supplier_id } = parties;
  const referrer_id = parties.referrer_id ?? null;
  const wanted: { role: Role; party_id: string | null; name: string }[] = [
    { role: "platform_admin", party_id: null, name: "admin" },
    { role: "finance", party_id: null, name: "finance" },
    { role: "reviewer", party_id: null, name: "reviewer" },
    { role: "auditor", party_id: null, name: "auditor" },
    { role: "merchant", party_id: merchant_id, name: "merchant" },
    { role: "supplier", party_id: supplier_id, name: "supplier" },
    { role: "party", party_id: referrer_id, name: "referrer" },
  ];
  const logins: DemoLogin[] = [];
  for (const item of wanted) {
    if (item.party_id === null && party_scoped_roles.has(item.role)) continue;
    const login = `${item.name}@${demo_login_domain}`;
    if ((await findUserByLogin(ctx.db, tenant_id, login)) !== undefined) continue;
    const password = generatePassword();
    await createUser(
      ctx,
      tenant_id,
      { role: item.role, party_id: item.party_id, email: login, password },
      { actor: "demo:seed", ip: null },
    );
    logins.push({ role: item.role, party_id: item.party_id, login, password });
  }
  return logins;
}
