import { assert } from "../core/assert.ts";
import type { StatementSink } from "../store/counted-database.ts";

// `--statements`: every statement the run sends, counted by the part of the
// simulation that sent it (an operation's kind, a tick's step, the checks),
// and by its text, with the wall time the client waited for it. A
// transaction counts its BEGIN and COMMIT as two more. This is how the cost of
// the real services per operation is measured (docs/reliability.md); it
// changes nothing the services do.

/** Statement texts listed in the report, the most waited-for first. */
export const statement_texts_max = 25;
/** Characters of a statement's text that name it in the report. */
const statement_name_chars_max = 90;

export interface StatementTally {
  statements: number;
  wait_ms: number;
}

export class StatementCounter implements StatementSink {
  /** The part of the run sending statements now; set by the executor, the tick and the checks. */
  part = "setup";
  readonly by_part = new Map<string, StatementTally>();
  readonly by_text = new Map<string, StatementTally>();

  record(text: string, wait_ms: number): void {
    assert(wait_ms >= 0, "a statement's wait is not negative");
    add(this.by_part, this.part, wait_ms);
    add(this.by_text, nameOf(text), wait_ms);
  }

  /** Runs `work` with statements counted under `part`, then restores the part before it. */
  async within<T>(part: string, work: () => Promise<T>): Promise<T> {
    const before = this.part;
    this.part = part;
    try {
      return await work();
    } finally {
      this.part = before;
    }
  }

  total(): number {
    let statements = 0;
    for (const tally of this.by_part.values()) statements += tally.statements;
    return statements;
  }

  report(operations: number): string {
    assert(operations >= 1, "a report is of at least one operation");
    const line = ([name, tally]: [string, StatementTally]) =>
      `  ${tally.statements.toString().padStart(8)} ${(tally.statements / operations).toFixed(2).padStart(7)}/op ${Math.round(tally.wait_ms).toString().padStart(8)} ms  ${name}`;
    const parts = [...this.by_part].sort((a, b) => b[1].statements - a[1].statements);
    const texts = [...this.by_text].sort((a, b) => b[1].wait_ms - a[1].wait_ms).slice(0, statement_texts_max);
    return [
      `sim: ${this.total()} statements, ${(this.total() / operations).toFixed(2)} per operation; by part:`,
      ...parts.map(line),
      "sim: the statements waited for longest:",
      ...texts.map(line),
      "",
    ].join("\n");
  }
}

function add(tallies: Map<string, StatementTally>, key: string, wait_ms: number): void {
  const tally = tallies.get(key) ?? { statements: 0, wait_ms: 0 };
  tally.statements += 1;
  tally.wait_ms += wait_ms;
  tallies.set(key, tally);
}

function nameOf(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, statement_name_chars_max);
}
