import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../service/context.ts";
import { LogKeyStore, logKeyOptionsFromEnv } from "../service/tlog/index.ts";
import { openDatabase } from "../store/open.ts";
import { startBackgroundRoles } from "./background-roles.ts";
import type { RolesThreadData, RolesThreadMessage } from "./roles-thread.ts";

// The roles thread's entry (started by roles-thread.ts through thread-boot.mjs):
// its own pool and key store, the background loops, and a stop on request.

const port = parentPort;
if (port === null) throw new Error("roles-thread-main.ts runs only as a worker thread");
const data = workerData as RolesThreadData;
const db = await openDatabase({
  database_url: data.database_url,
  connections_max: data.connections_max,
  application_name: `clearsplit roles ${process.pid}`,
});
const roles = startBackgroundRoles({ db, now: systemClock }, new LogKeyStore(logKeyOptionsFromEnv()));
port.postMessage({ type: "started" } satisfies RolesThreadMessage);
port.on("message", (message: RolesThreadMessage) => {
  if (message.type !== "stop") return;
  void (async () => {
    let error: string | null = null;
    try {
      await roles.stop();
    } catch (stop_error) {
      error = String(stop_error);
    }
    await db.close();
    port.postMessage({ type: "stopped", error } satisfies RolesThreadMessage);
    port.close();
  })();
});
