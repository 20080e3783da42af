import { parseArgs } from "node:util";
import { createWitnessServer } from "../service/witness/witness-server.ts";
import { loadWitnessSigner, loadWitnessState } from "../service/witness/witness-state.ts";
import { parseVkey } from "../verify/index.ts";

// `clearsplit witness --log URL --log-key VKEY --state DIR --port P [--name NAME]`
export const usage =
  "usage: clearsplit witness --log URL --log-key VKEY [--log-key VKEY …] --state DIR --port P [--name NAME]\n";

function fail(message: string): number {
  process.stderr.write(`clearsplit witness: ${message}\n${usage}`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | string[] | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        log: { type: "string" },
        "log-key": { type: "string", multiple: true },
        state: { type: "string" },
        port: { type: "string" },
        name: { type: "string" },
      },
    }).values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const log = values.log as string | undefined;
  const log_keys = (values["log-key"] as string[] | undefined) ?? [];
  const state_dir = values.state as string | undefined;
  const port = Number(values.port);
  if (!log || log_keys.length === 0 || !state_dir || !Number.isInteger(port) || port < 0 || port > 65535) {
    return fail("--log, --log-key, --state and --port are required");
  }
  try {
    await Promise.all(log_keys.map(parseVkey));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  // The origin is the log URL without its scheme, as tlog-checkpoint recommends.
  const origin = log.replace(/^[a-z]+:\/\//i, "").replace(/\/+$/, "");
  const signer = await loadWitnessSigner(
    state_dir,
    (values.name as string | undefined) ?? `witness.${origin}`,
  );
  const state = await loadWitnessState(state_dir);
  if (state && state.origin !== origin)
    return fail(`state in ${state_dir} is for ${state.origin}, not ${origin}`);
  const server = createWitnessServer({ origin, logKeys: log_keys, signer, stateDir: state_dir, state });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`witness for ${origin} on port ${listening}\nwitness vkey: ${signer.vkey}\n`);
  process.stdout.write(`cosigned size: ${state?.size ?? 0n}\n`);
  await new Promise<void>((resolve) => server.on("close", resolve));
  return 0;
}
