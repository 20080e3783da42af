import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { VerifyError, verifyStatementText } from "../verify/index.ts";

// `clearsplit verify statement FILE [--vkey VKEY …]`: checks a statement's
// manifest offline (src/verify/statement.ts). Without --vkey it trusts the key
// the file names and says so. Exit 0: verified; 1: failed; 2: bad usage.

export const statement_usage = "       clearsplit verify statement FILE [--vkey VKEY …]\n";

export async function verifyStatementFile(
  argv: string[],
  fail: (message: string, code: number) => number,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { vkey: { type: "string", multiple: true } },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    return fail(`expected exactly one statement FILE\n${statement_usage}`, 2);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  try {
    const result = await verifyStatementText(text, values.vkey);
    const at =
      result.checkpoint === null
        ? "no checkpoint (the log had none yet)"
        : `checkpoint ${result.checkpoint.origin} size ${result.checkpoint.size}`;
    process.stdout.write(
      `OK: statement of ${result.party_id} in ${result.currency} for [${result.from}, ${result.to}) ` +
        `is what the ledger said at ${at}\ncontent sha256 ${result.content_sha256}, signed by ${result.verified_by.join(", ")}\n` +
        (result.key_pinned
          ? ""
          : "note: the key was taken from the file itself; pin it with --vkey to trust it\n"),
    );
    return 0;
  } catch (error) {
    if (error instanceof VerifyError && error.code === "bad_vkey") return fail(error.message, 2);
    if (error instanceof VerifyError) return fail(`FAILED (${error.code}): ${error.message}`, 1);
    throw error;
  }
}
