// Domain errors carry a stable machine code, the field they concern, and a
// message a person can act on. The HTTP edge maps codes to statuses in one place.
export class DomainError extends Error {
  override name = "DomainError";
  readonly code: string;
  readonly field: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: string, message: string, field?: string, detail?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
