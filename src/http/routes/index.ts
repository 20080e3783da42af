import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { keyRoutes } from "./api-key-routes.ts";
import { auditRoutes } from "./audit.ts";
import { auditConfigRoutes } from "./audit-config-routes.ts";
import { authRoutes } from "./auth.ts";
import { disputeRoutes } from "./dispute-routes.ts";
import { eventRoutes } from "./events.ts";
import { financeHistoryRoutes } from "./finance-history.ts";
import { healthRoutes } from "./health.ts";
import { ledgerRoutes } from "./ledger.ts";
import { logRoutes } from "./log.ts";
import { notificationRoutes } from "./notifications.ts";
import { orderRoutes } from "./orders.ts";
import { partyRoutes } from "./parties.ts";
import { policyRoutes } from "./policy-routes.ts";
import { problemRoutes } from "./problems.ts";
import { reconciliationRoutes } from "./reconciliation.ts";
import { reportRoutes } from "./reports.ts";
import { settlementRoutes } from "./settlement.ts";
import { statsRoutes } from "./stats.ts";
import { userRoutes } from "./user-routes.ts";
import { webhookRoutes } from "./webhooks.ts";

// Every route module, registered in this order. A module is one resource.
export const routeModules: ((app: FastifyInstance, ctx: ServiceContext) => Promise<void>)[] = [
  healthRoutes,
  authRoutes,
  keyRoutes,
  userRoutes,
  eventRoutes,
  partyRoutes,
  policyRoutes,
  orderRoutes,
  ledgerRoutes,
  logRoutes,
  settlementRoutes,
  reconciliationRoutes,
  financeHistoryRoutes,
  problemRoutes,
  notificationRoutes,
  webhookRoutes,
  auditRoutes,
  auditConfigRoutes,
  disputeRoutes,
  reportRoutes,
  statsRoutes,
];
