import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { toHex, VerifyError, verifyBundle } from "../verify/index.ts";

// `clearsplit verify bundle FILE --log-key VKEY [--witness-key VKEY …] [--quorum K]`
// Exit 0: verified; 1: verification failed; 2: bad usage or unreadable input.
const usage =
  "usage: clearsplit verify bundle FILE --log-key VKEY [--log-key VKEY …] [--witness-key VKEY …] [--quorum K]\n";

function fail(message: string, code: number): number {
  process.stderr.write(`clearsplit verify: ${message}\n`);
  return code;
}

async function verifyBundleFile(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "log-key": { type: "string", multiple: true },
      "witness-key": { type: "string", multiple: true },
      quorum: { type: "string" },
    },
  });
  const [file, ...extra] = positionals;
  const log_keys = values["log-key"] ?? [];
  const witness_keys = values["witness-key"] ?? [];
  if (file === undefined || extra.length > 0) return fail(`expected exactly one bundle FILE\n${usage}`, 2);
  if (log_keys.length === 0) return fail(`--log-key is required\n${usage}`, 2);
  if (values.quorum !== undefined && !/^[0-9]+$/.test(values.quorum))
    return fail("--quorum must be a number", 2);
  const quorum = values.quorum === undefined ? witness_keys.length : Number(values.quorum);
  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    return fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  try {
    const result = await verifyBundle(bundle, log_keys, witness_keys, quorum);
    const witnesses =
      result.cosignedBy.map((c) => `${c.name} (time ${c.timestamp})`).join(", ") || "none required";
    process.stdout.write(
      `OK: record is leaf ${result.leafIndex} of ${result.origin} at tree size ${result.treeSize}\n` +
        `root ${toHex(result.rootHash)} signed by ${result.verifiedBy.join(", ")}; cosigned by ${witnesses}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof VerifyError && (error.code === "bad_vkey" || error.code === "bad_quorum")) {
      return fail(error.message, 2);
    }
    if (error instanceof VerifyError) return fail(`FAILED (${error.code}): ${error.message}`, 1);
    throw error;
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === "bundle") return await verifyBundleFile(rest);
  } catch (error) {
    // parseArgs throws on unknown options; that is bad usage, not a crash.
    if (error instanceof TypeError) return fail(`${error.message}\n${usage}`, 2);
    throw error;
  }
  if (sub === "log" || sub === "db")
    return fail(`verify ${sub} is not built yet (it needs the storage layer)`, 2);
  return fail(`unknown or missing subcommand\n${usage}`, 2);
}
