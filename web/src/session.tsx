import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { api, onUnauthorized } from "./api/client.ts";

// The signed-in user, from GET /v1/auth/me, and the log key pinned at sign-in:
// proofs are checked against the key the browser saw when the user signed in,
// so a server that later swaps its key cannot make a forged bundle verify.

export type Role =
  | "platform_admin"
  | "finance"
  | "reviewer"
  | "auditor"
  | "merchant"
  | "supplier"
  | "party"
  | "integration";

export interface Me {
  tenant_id: string;
  role: Role;
  party_id: string | null;
  actor: string;
  user: { id: string; email: string | null; role: Role; party_id: string | null } | null;
  session_expires_at: string | null;
}

type State = { status: "loading" } | { status: "signed_out" } | { status: "signed_in"; me: Me };

interface Session {
  state: State;
  signIn: (input: { tenant: string; login: string; password: string }) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);
const last_tenant_key = "clearsplit.tenant";

export function lastTenant(): string {
  return localStorage.getItem(last_tenant_key) ?? "demo";
}

export function pinnedKeyName(tenant: string): string {
  return `clearsplit.log-key.${tenant}`;
}
export function witnessKeysName(tenant: string): string {
  return `clearsplit.witness-keys.${tenant}`;
}

export interface PinnedKeys {
  log_key: string | null;
  /** The key the server offers now, when it differs from the pinned one. */
  offered_key: string | null;
  witness_keys: string[];
}

export function pinnedKeys(tenant: string): PinnedKeys {
  let witness_keys: string[] = [];
  try {
    const parsed = JSON.parse(localStorage.getItem(witnessKeysName(tenant)) ?? "[]") as unknown;
    if (Array.isArray(parsed)) witness_keys = parsed.filter((key): key is string => typeof key === "string");
  } catch {
    witness_keys = [];
  }
  return {
    log_key: localStorage.getItem(pinnedKeyName(tenant)),
    offered_key: sessionStorage.getItem(`${pinnedKeyName(tenant)}.offered`),
    witness_keys,
  };
}

export function setWitnessKeys(tenant: string, keys: string[]): void {
  localStorage.setItem(witnessKeysName(tenant), JSON.stringify(keys));
}

/** Pins the log's vkey on first sign-in; a different key later is reported, never silently trusted. */
export async function pinLogKey(tenant: string): Promise<void> {
  let offered: string;
  try {
    offered = (await api<string>(`/log/${encodeURIComponent(tenant)}/vkey`, { text: true })).trim();
  } catch {
    return; // the log has not started yet; the next sign-in pins it
  }
  const pinned = localStorage.getItem(pinnedKeyName(tenant));
  if (pinned === null) localStorage.setItem(pinnedKeyName(tenant), offered);
  else if (pinned !== offered) sessionStorage.setItem(`${pinnedKeyName(tenant)}.offered`, offered);
  else sessionStorage.removeItem(`${pinnedKeyName(tenant)}.offered`);
}

export function trustOfferedKey(tenant: string): void {
  const offered = sessionStorage.getItem(`${pinnedKeyName(tenant)}.offered`);
  if (offered === null) return;
  localStorage.setItem(pinnedKeyName(tenant), offered);
  sessionStorage.removeItem(`${pinnedKeyName(tenant)}.offered`);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: "loading" });
  const refresh = useCallback(async () => {
    try {
      setState({ status: "signed_in", me: await api<Me>("/v1/auth/me") });
    } catch {
      setState({ status: "signed_out" });
    }
  }, []);
  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setState({ status: "signed_out" }));
  }, [refresh]);
  const signIn = useCallback(
    async (input: { tenant: string; login: string; password: string }) => {
      await api("/v1/auth/login", {
        method: "POST",
        body: { tenant_id: input.tenant, login: input.login, password: input.password },
      });
      localStorage.setItem(last_tenant_key, input.tenant);
      await pinLogKey(input.tenant);
      await refresh();
    },
    [refresh],
  );
  const signOut = useCallback(async () => {
    try {
      await api("/v1/auth/logout", { method: "POST" });
    } finally {
      setState({ status: "signed_out" });
    }
  }, []);
  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (value === null) throw new Error("useSession outside SessionProvider");
  return value;
}

export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== "signed_in") throw new Error("useMe on a signed-out page");
  return state.me;
}

export const platform_roles: readonly Role[] = ["platform_admin", "finance", "reviewer", "auditor"];
export function isPartyRole(role: Role): boolean {
  return role === "merchant" || role === "supplier" || role === "party";
}
