// Just enough RFC 6265 for two cookies: parsing the Cookie header and writing
// Set-Cookie. No dependency: the values are our own base64url tokens.

export const session_cookie = "cs_session";
export const csrf_cookie = "cs_csrf";
const cookie_header_length_max = 8192;

/** The cookies of a request; the first value of a repeated name wins. Malformed pairs are skipped. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined || header.length > cookie_header_length_max) return cookies;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) continue;
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieOptions {
  http_only: boolean;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  max_age_s: number;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new Error(`cookie ${name} has characters outside base64url`);
  const parts = [
    `${name}=${value}`,
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(options.max_age_s))}`,
    "SameSite=Lax",
  ];
  if (options.http_only) parts.push("HttpOnly");
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}
