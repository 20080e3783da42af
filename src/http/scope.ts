import type { FastifyRequest } from "fastify";
import { party_scoped_roles } from "../core/auth/roles.ts";
import type { ReadScope } from "../service/orders/read.ts";
import { principalOf } from "./auth.ts";

/** The read scope of the caller: party-scoped roles see their own party only. */
export function scopeOf(request: FastifyRequest): ReadScope {
  const principal = principalOf(request);
  return {
    tenant_id: principal.tenant_id,
    party_id: party_scoped_roles.has(principal.role) ? principal.party_id : null,
  };
}

export function limitOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function instantOf(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}
