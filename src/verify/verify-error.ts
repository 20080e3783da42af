// The verifier is a standalone module (it ships to browsers), so it carries its
// own error type instead of importing the server's DomainError. Each failure has
// a stable code a caller can branch on and a message a person can act on.
export class VerifyError extends Error {
  override name = "VerifyError";
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
