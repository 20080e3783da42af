// A worker thread's first module: Node runs a worker's entry without the
// parent's loader hooks, so the TypeScript sources need tsx registered again
// (as bin/clearsplit.mjs does for the process), then the entry named in
// workerData.entry (a file: URL) is imported.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
