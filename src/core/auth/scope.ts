import { assert } from "../assert.ts";
import { type Principal, party_scoped_roles } from "./roles.ts";

/**
 * What a read may see: one tenant, and either one party or (null) every party
 * of the tenant. Built from the credential, never from the request.
 */
export interface ReadScope {
  readonly tenant_id: string;
  readonly party_id: string | null;
}

/**
 * The read scope of a principal. Merchants and suppliers are confined to their
 * party; platform_admin, finance, reviewer, auditor and integration see every
 * party of their tenant. A party-scoped role without a party is a broken
 * credential, and fails loudly rather than widening to the whole tenant.
 */
export function readScopeOf(principal: Principal): ReadScope {
  assert(principal.tenant_id.length > 0, "principal has no tenant");
  if (party_scoped_roles.has(principal.role)) {
    assert(
      principal.party_id !== null && principal.party_id.length > 0,
      `a ${principal.role} principal must carry its party`,
    );
    return Object.freeze({ tenant_id: principal.tenant_id, party_id: principal.party_id });
  }
  return Object.freeze({ tenant_id: principal.tenant_id, party_id: null });
}

/** Whether a scope may see a row that concerns `party_ids`. Mirrors the SQL policies. */
export function scopeSees(scope: ReadScope, party_ids: readonly string[]): boolean {
  return scope.party_id === null || party_ids.includes(scope.party_id);
}
