import type { ErrorCode } from "./error-catalogue.ts";

export type { ErrorCode } from "./error-catalogue.ts";

// Domain errors carry a stable machine code from the closed catalogue
// (core/error-catalogue.ts), the field they concern, and a message a person can
// act on. The HTTP edge reads each code's status from the catalogue.
export class DomainError extends Error {
  override name = "DomainError";
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, field?: string, detail?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
