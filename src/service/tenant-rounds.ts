// A background round visits every tenant in turn. One tenant's failure (a record damaged out of
// band, a bug its data alone reaches, a statement cancelled) must not stop the tenants after it:
// otherwise the first poisoned tenant in the round's order stops every later tenant's releases,
// settlement, audit and reports, on every round, for as long as it stays poisoned.

/** Told of each tenant whose work threw; `"*"` when the round failed before reaching any tenant. */
export type TenantErrorHandler = (error: unknown, tenant_id: string) => void;

/**
 * Runs `work` for each tenant in order. A tenant whose work throws is handed to `on_error` and
 * the round goes on. With no handler, the round still visits every tenant, then throws: the one
 * error as it was, or an `AggregateError` of all of them, each naming its tenant.
 */
export async function forEachTenant(
  tenant_ids: Iterable<string>,
  work: (tenant_id: string) => Promise<void>,
  on_error?: TenantErrorHandler,
): Promise<void> {
  const failures: { tenant_id: string; error: unknown }[] = [];
  for (const tenant_id of tenant_ids) {
    try {
      await work(tenant_id);
    } catch (error) {
      if (on_error === undefined) failures.push({ tenant_id, error });
      else on_error(error, tenant_id);
    }
  }
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1)
    throw new AggregateError(
      failures.map((failure) => failure.error),
      `${failures.length} tenants failed: ${failures.map((failure) => failure.tenant_id).join(", ")}`,
    );
}
