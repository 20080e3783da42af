import { lookup } from "node:dns";
import { BlockList, isIP } from "node:net";
import { DomainError } from "../../core/errors.ts";
import { webhook_url_length_max } from "../../core/limits.ts";

// A webhook must not be turned against the platform's own network: its URL is
// http(s) only, and every address it resolves to must be public, unless the
// operator allows private ones (CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE=1). The check
// runs when the endpoint is saved and again on every connection, inside the
// socket's own DNS lookup, so a name that re-resolves to 127.0.0.1 later
// (DNS rebinding) is refused at delivery.

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["100::", 64],
] as const)
  blocked.addSubnet(network, prefix, "ipv6");

export function privateAllowed(env: Record<string, string | undefined> = process.env): boolean {
  return env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE === "1";
}

/** Whether an IP address is loopback, private, link-local, reserved or otherwise not the public internet. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped and NAT64 addresses are judged by the IPv4 address inside.
  const mapped = /^(?:::ffff:|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (mapped) return blocked.check(mapped[1]!, "ipv4");
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return blocked.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, "ipv4");
  }
  return blocked.check(address, "ipv6");
}

/** The host of a URL without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/** Checks a webhook URL's form, and its host when it is an IP literal or `localhost`. */
export function checkWebhookUrl(text: string, allow_private = privateAllowed()): URL {
  if (text.length > webhook_url_length_max)
    throw new DomainError(
      "webhook_url_invalid",
      `url must be at most ${webhook_url_length_max} characters`,
      "url",
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DomainError("webhook_url_invalid", "url is not an absolute URL", "url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new DomainError(
      "webhook_url_invalid",
      `url must be http or https, not ${url.protocol.slice(0, -1)}`,
      "url",
    );
  if (url.username !== "" || url.password !== "")
    throw new DomainError(
      "webhook_url_invalid",
      "url must not carry credentials; the signature authenticates",
      "url",
    );
  if (url.hash !== "") throw new DomainError("webhook_url_invalid", "url must not have a #fragment", "url");
  const host = hostOf(url);
  if (allow_private) return url;
  const local_name =
    host === "localhost" || host.endsWith(".localhost") || (!host.includes(".") && isIP(host) === 0);
  if (local_name || (isIP(host) !== 0 && isPrivateAddress(host)))
    throw new DomainError(
      "webhook_url_private",
      `url host ${host} is a private or loopback address; webhooks go to public addresses only`,
      "url",
    );
  return url;
}

/** How a host name becomes addresses: the system's resolver, or another (a test's, an operator's DNS). */
export type Resolver = (hostname: string, family: number) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) =>
    lookup(hostname, { all: true, family }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Resolves a host and refuses private answers: what the webhook socket uses as its `lookup`. */
export function guardedLookup(allow_private: boolean, resolver: Resolver = systemResolver) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void,
  ): void => {
    resolver(hostname, typeof options.family === "number" ? options.family : 0).then(
      (addresses) => {
        const refused = allow_private
          ? undefined
          : addresses.find((entry) => isPrivateAddress(entry.address));
        if (refused !== undefined) {
          const denial = Object.assign(
            new Error(`${hostname} resolves to ${refused.address}, a private address`),
            {
              code: "EPRIVATE",
            },
          );
          return callback(denial, "");
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (first === undefined)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "");
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ""),
    );
  };
}

/** At save time: a name that resolves to a private address now is refused now, not only at delivery. */
export async function checkWebhookHost(url: URL, allow_private = privateAllowed()): Promise<void> {
  const host = hostOf(url);
  if (allow_private || isIP(host) !== 0) return;
  const addresses = await new Promise<{ address: string }[]>((resolve) =>
    lookup(host, { all: true }, (error, found) => resolve(error ? [] : found)),
  );
  const refused = addresses.find((entry) => isPrivateAddress(entry.address));
  if (refused !== undefined)
    throw new DomainError(
      "webhook_url_private",
      `url host ${host} resolves to ${refused.address}, a private or loopback address`,
      "url",
    );
}
