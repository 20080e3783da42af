import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { order_report_days_max, report_orders_max } from "../../core/limits.ts";
import type { ReportDocument, ReportTable } from "../../core/reports/document.ts";
import type { ReportLang } from "../../core/reports/format.ts";
import { dayOf, parsePeriod } from "../../core/reports/period.ts";
import { allocate, loadPolicy, parseOrder } from "../../core/split/index.ts";
import { selectMerchantOrdersPaidBetween } from "../../store/report-orders-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import { selectTenantName } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { allocationsFor } from "../orders/allocation.ts";
import type { OrderRow } from "../orders/view.ts";
import { getPolicy } from "../policies.ts";

// The policy simulator: re-runs a policy (typically a draft) over the orders
// of a past period, read-only, and shows per merchant and party what each got
// under the policy it was booked with, what it would get, and the difference.
// Nothing is written: the whole run is one read-only snapshot.

export interface SimulationRequest {
  from?: unknown;
  to?: unknown;
  merchant_id?: string | undefined;
  currency?: string | undefined;
}

interface ShareRow {
  merchant_id: string;
  party_id: string;
  currency: string;
  old_minor: bigint;
  new_minor: bigint;
}

export async function simulatePolicy(
  ctx: ServiceContext,
  scope: ReadScope,
  policy_id: string,
  request: SimulationRequest,
  lang: ReportLang,
): Promise<ReportDocument> {
  const period = parsePeriod(request.from, request.to, order_report_days_max);
  const policy_view = await getPolicy(ctx.db, scope.tenant_id, policy_id);
  const { policy, policy_hash } = loadPolicy(policy_view.body);
  const { shares, failures, orders } = await withReadScope(ctx.db, scope, async (tx) => {
    const rows = await selectMerchantOrdersPaidBetween(
      tx,
      scope.tenant_id,
      {
        from: period.from,
        to: period.to,
        merchant_id: request.merchant_id ?? null,
        currency: request.currency ?? null,
      },
      report_orders_max + 1,
    );
    if (rows.length > report_orders_max)
      throw new DomainError("report_too_large", `more than ${report_orders_max} orders in the period`, "to");
    const allocationOf = await allocationsFor(tx, scope.tenant_id, rows);
    const shares = new Map<string, ShareRow>();
    const failures: { order_id: string; code: string; message: string }[] = [];
    const add = (order: OrderRow, party_id: string, field: "old_minor" | "new_minor", amount: bigint) => {
      const key = [order.currency, order.merchant_id, party_id].join("\u0000");
      const row = shares.get(key) ?? {
        merchant_id: order.merchant_id,
        party_id,
        currency: order.currency,
        old_minor: 0n,
        new_minor: 0n,
      };
      row[field] += amount;
      shares.set(key, row);
    };
    for (const order of rows) {
      let simulated: ReturnType<typeof allocate>;
      try {
        simulated = allocate(policy, parseOrder(order.facts, "stored"), {
          policy_hash,
          ...(order.referrers_unknown === null ? {} : { unknown_referrers: order.referrers_unknown }),
        });
      } catch (error) {
        if (!isDomainError(error)) throw error;
        failures.push({ order_id: order.id, code: error.code, message: error.message });
        continue;
      }
      for (const leg of allocationOf(order).legs)
        add(order, leg.party_id, "old_minor", BigInt(leg.amount_minor));
      for (const leg of simulated.legs) add(order, leg.party_id, "new_minor", leg.amount_minor);
    }
    return { shares: [...shares.values()], failures, orders: rows.length };
  });
  shares.sort((a, b) =>
    a.currency !== b.currency
      ? a.currency < b.currency
        ? -1
        : 1
      : a.merchant_id !== b.merchant_id
        ? a.merchant_id < b.merchant_id
          ? -1
          : 1
        : a.party_id < b.party_id
          ? -1
          : a.party_id > b.party_id
            ? 1
            : 0,
  );
  const items = shares.map((row) => ({ ...row, difference_minor: row.new_minor - row.old_minor }));
  const tables: ReportTable[] = [...new Set(items.map((row) => row.currency))].map((currency) => ({
    title: "policy_simulation",
    currency,
    columns: [
      { key: "merchant_id", label: "merchant", type: "text" },
      { key: "party_id", label: "party", type: "text" },
      { key: "old_minor", label: "old_share", type: "money" },
      { key: "new_minor", label: "new_share", type: "money" },
      { key: "difference_minor", label: "difference", type: "money" },
    ],
    rows: items
      .filter((row) => row.currency === currency)
      .map((row) => [row.merchant_id, row.party_id, row.old_minor, row.new_minor, row.difference_minor]),
    totals: ["old_minor", "new_minor", "difference_minor"],
  }));
  const tenant_name = await selectTenantName(ctx.db, scope.tenant_id);
  return {
    report: "policy_simulation",
    lang,
    platform_name: tenant_name ?? scope.tenant_id,
    period: { from: dayOf(period.from), to: dayOf(period.to) },
    tables,
    json: {
      policy_id: policy_view.id,
      policy_status: policy_view.status,
      policy_hash,
      from: dayOf(period.from),
      to: dayOf(period.to),
      orders,
      orders_failed: failures.length,
      failures: failures.slice(0, 100),
      items,
    },
    generated_at: ctx.now().toISOString(),
  };
}
