// A problem+json answer (RFC 9457) as a typed error: callers branch on
// `status` and the catalogue's `code`, and show `field` and `message`.

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  field?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class ClearSplitError extends Error {
  override name = "ClearSplitError";
  /** The HTTP status; 0 when no answer arrived (the retries ran out on network errors). */
  readonly status: number;
  /** The error catalogue's code (docs/errors.md), or `network_error` / `invalid_response`. */
  readonly code: string;
  readonly field: string | undefined;
  readonly problem: ProblemBody | undefined;
  /** How many attempts were made before giving up. */
  readonly attempts: number;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    field?: string | undefined;
    problem?: ProblemBody | undefined;
    attempts: number;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.problem = init.problem;
    this.attempts = init.attempts;
  }
}

export function isClearSplitError(error: unknown): error is ClearSplitError {
  return error instanceof ClearSplitError;
}

/** Builds the typed error from an answer's status and body, whatever shape the body has. */
export function errorFromResponse(status: number, body: unknown, attempts: number): ClearSplitError {
  const problem = typeof body === "object" && body !== null ? (body as ProblemBody) : undefined;
  const code = typeof problem?.code === "string" ? problem.code : `http_${status}`;
  const detail = typeof problem?.detail === "string" ? problem.detail : undefined;
  const title = typeof problem?.title === "string" ? problem.title : undefined;
  const text = typeof body === "string" && body.length > 0 ? body.slice(0, 200) : undefined;
  return new ClearSplitError({
    status,
    code,
    message: detail ?? title ?? text ?? `HTTP ${status}`,
    field: typeof problem?.field === "string" ? problem.field : undefined,
    problem,
    attempts,
  });
}
