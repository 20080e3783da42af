import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../service/context.ts";
import { healthRoutes } from "./health.ts";
import { logRoutes } from "./log.ts";

// Every route module, registered in this order. A module is one resource.
export const routeModules: ((app: FastifyInstance, ctx: ServiceContext) => Promise<void>)[] = [
  healthRoutes,
  logRoutes,
];
