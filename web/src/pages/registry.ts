import type { ComponentType } from "react";
import type { MessageKey } from "../i18n/index.tsx";
import type { Role } from "../session.tsx";

// Every page of the console is one module, loaded when first opened. A page
// names its path, the roles that see it in the menu and may open it, and its
// menu label.

export interface PageProps {
  params: Record<string, string>;
}

export interface PageModule {
  id: string;
  path: string;
  roles: readonly Role[];
  /** Shown in the navigation menu when set. */
  nav?: MessageKey;
  load: () => Promise<{ default: ComponentType<PageProps> }>;
}

const platform: readonly Role[] = ["platform_admin", "finance", "reviewer", "auditor"];
const everyone: readonly Role[] = [...platform, "merchant", "supplier", "party"];
const parties: readonly Role[] = ["merchant", "supplier", "party"];
const finance: readonly Role[] = ["platform_admin", "finance"];

export const pages: readonly PageModule[] = [
  {
    id: "dashboard",
    path: "/dashboard",
    roles: platform,
    nav: "nav.dashboard",
    load: () => import("./dashboard.tsx"),
  },
  { id: "portal", path: "/portal", roles: parties, nav: "nav.portal", load: () => import("./portal.tsx") },
  { id: "orders", path: "/orders", roles: everyone, nav: "nav.orders", load: () => import("./orders.tsx") },
  { id: "order", path: "/orders/:id", roles: everyone, load: () => import("./order.tsx") },
  {
    id: "parties",
    path: "/parties",
    roles: platform,
    nav: "nav.parties",
    load: () => import("./parties.tsx"),
  },
  { id: "party", path: "/parties/:id", roles: everyone, load: () => import("./portal.tsx") },
  {
    id: "auditor",
    path: "/auditor",
    roles: everyone,
    nav: "nav.auditor",
    load: () => import("./auditor.tsx"),
  },
  {
    id: "policies",
    path: "/policies",
    roles: platform,
    nav: "nav.policies",
    load: () => import("./policies.tsx"),
  },
  { id: "policy", path: "/policies/:id", roles: everyone, load: () => import("./policy.tsx") },
  {
    id: "audit",
    path: "/audit",
    roles: platform,
    nav: "nav.audit",
    load: () => import("./audit-queue.tsx"),
  },
  { id: "audit-case", path: "/audit/:id", roles: platform, load: () => import("./audit-case.tsx") },
  {
    id: "settlement",
    path: "/settlement",
    roles: finance,
    nav: "nav.settlement",
    load: () => import("./settlement.tsx"),
  },
  {
    id: "reconciliation",
    path: "/reconciliation",
    roles: platform,
    nav: "nav.reconciliation",
    load: () => import("./reconciliation.tsx"),
  },
  {
    id: "reconciliation-import",
    path: "/reconciliation/:id",
    roles: platform,
    load: () => import("./reconciliation-import.tsx"),
  },
  {
    id: "reports",
    path: "/reports",
    roles: everyone,
    nav: "nav.reports",
    load: () => import("./reports.tsx"),
  },
  { id: "inbox", path: "/inbox", roles: everyone, nav: "nav.inbox", load: () => import("./inbox.tsx") },
  {
    id: "webhooks",
    path: "/webhooks",
    roles: ["platform_admin", ...parties],
    nav: "nav.webhooks",
    load: () => import("./webhooks.tsx"),
  },
  {
    id: "users",
    path: "/users",
    roles: ["platform_admin"],
    nav: "nav.users",
    load: () => import("./users.tsx"),
  },
  {
    id: "api-keys",
    path: "/api-keys",
    roles: ["platform_admin"],
    nav: "nav.api_keys",
    load: () => import("./api-keys.tsx"),
  },
];

/** Where a role lands after sign-in. */
export function homeOf(role: Role): string {
  if (role === "merchant" || role === "supplier" || role === "party") return "/portal";
  if (role === "auditor") return "/auditor";
  return "/dashboard";
}
