import { readFileSync } from "node:fs";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { result_file_bytes_max } from "../../core/limits.ts";
import { splitRecord } from "../../core/reconcile/csv-records.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectPayoutByReference } from "../../store/settlement-sql.ts";
import type { ServiceContext } from "../context.ts";
import { resolveIn } from "./payouts.ts";

// A bank's result file for a payout run: one line per transfer,
//   reference,status,reason,provider_reference
//   CSP20261126A1B2C3D4E5,paid,,BANK-REF-1
//   CSP20261126F6A7B8C9D0,failed,account closed,
// applied in one transaction. Unknown references and bad lines are reported by
// line and the rest is applied; the same file again changes nothing.

export interface ResultImport {
  confirmed: number;
  failed: number;
  unchanged: number;
  rejected: { line: number; reason: string }[];
}

export async function importPayoutResults(
  ctx: ServiceContext,
  tenant_id: string,
  path: string,
): Promise<ResultImport> {
  const text = readFileSync(path, "utf8");
  if (text.length > result_file_bytes_max)
    throw new DomainError(
      "bill_too_large",
      `a result file holds at most ${result_file_bytes_max} bytes`,
      "file",
    );
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = splitRecord(lines[0] ?? "")?.map((cell) => cell.trim().toLowerCase()) ?? [];
  const at = (name: string) => header.indexOf(name);
  if (at("reference") < 0 || at("status") < 0)
    throw new DomainError(
      "bill_unusable",
      "a payout result file starts with a header naming reference and status",
      "file",
    );
  return inTransaction(ctx.db, async (tx) => {
    const result: ResultImport = { confirmed: 0, failed: 0, unchanged: 0, rejected: [] };
    for (const [index, line] of lines.entries()) {
      if (index === 0 || line.trim() === "") continue;
      const cells = splitRecord(line)?.map((cell) => cell.trim());
      const reject = (reason: string) => result.rejected.push({ line: index + 1, reason });
      if (cells === undefined || cells === null) {
        reject("unterminated quote");
        continue;
      }
      const reference = cells[at("reference")] ?? "";
      const status = (cells[at("status")] ?? "").toLowerCase();
      const payout = await selectPayoutByReference(tx, tenant_id, reference);
      if (payout === undefined) {
        reject(`no payout with reference ${JSON.stringify(reference)}`);
        continue;
      }
      const outcome =
        status === "paid" || status === "confirmed"
          ? "confirm"
          : status === "failed" || status === "returned"
            ? "fail"
            : null;
      if (outcome === null) {
        reject(`status must be paid or failed, not ${JSON.stringify(status)}`);
        continue;
      }
      const reason = at("reason") < 0 ? "" : (cells[at("reason")] ?? "");
      if (outcome === "fail" && reason === "") {
        reject("a failed payout needs a reason");
        continue;
      }
      if (payout.state === (outcome === "confirm" ? "paid_out" : "failed")) {
        result.unchanged += 1;
        continue;
      }
      try {
        const provider_reference =
          at("provider_reference") < 0 ? undefined : cells[at("provider_reference")] || undefined;
        await resolveIn(
          tx,
          tenant_id,
          payout.id,
          outcome === "confirm" ? { outcome, provider_reference } : { outcome, reason },
          ctx.now(),
        );
        if (outcome === "confirm") result.confirmed += 1;
        else result.failed += 1;
      } catch (error) {
        if (!isDomainError(error)) throw error;
        reject(error.message);
      }
    }
    return result;
  });
}
