import { ClearSplitError } from "./problem-error.ts";

// A fetch that retries what is safe to retry. Reads (GET, HEAD) and writes
// that carry an Idempotency-Key are retried on network errors, 429 and 503
// (and 502/504 from a proxy in front), honouring Retry-After, with capped
// exponential backoff and a bound on attempts. A write without a key is sent
// once: a second send could book the same money twice.

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts_max: number;
  base_delay_ms: number;
  delay_ms_max: number;
  /** Sleeps; tests may make it instant. */
  sleep?: (ms: number) => Promise<void>;
}

export const retry_defaults: RetryOptions = { attempts_max: 5, base_delay_ms: 200, delay_ms_max: 10_000 };
export const attempts_limit = 20;

const retryable_statuses = new Set([429, 502, 503, 504]);
const safe_methods = new Set(["GET", "HEAD", "OPTIONS"]);

export function mayRetry(request: Request): boolean {
  return safe_methods.has(request.method.toUpperCase()) || request.headers.has("idempotency-key");
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now_ms: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at_ms = Date.parse(trimmed);
  return Number.isNaN(at_ms) ? undefined : Math.max(0, at_ms - now_ms);
}

function backoffMs(options: RetryOptions, attempt: number): number {
  const ceiling = Math.min(options.delay_ms_max, options.base_delay_ms * 2 ** (attempt - 1));
  // Full jitter, so that clients that failed together do not retry together.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps `inner` (the global fetch by default) with the retry rules above. */
export function retryingFetch(
  options: RetryOptions,
  inner: typeof fetch = globalThis.fetch,
): (request: Request) => Promise<Response> {
  if (!(options.attempts_max >= 1 && options.attempts_max <= attempts_limit)) {
    throw new RangeError(`attempts_max must be 1..${attempts_limit}`);
  }
  const sleep = options.sleep ?? defaultSleep;
  return async (request: Request): Promise<Response> => {
    const retry = mayRetry(request);
    const attempts_max = retry ? options.attempts_max : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        // Each attempt sends a fresh copy: a body can be read once.
        response = await inner(request.clone());
      } catch (error) {
        if (attempt >= attempts_max) {
          throw new ClearSplitError({
            status: 0,
            code: "network_error",
            message: `${request.method} ${new URL(request.url).pathname} failed after ${attempt} attempt(s): ${String(error)}`,
            attempts: attempt,
            cause: error,
          });
        }
        await sleep(backoffMs(options, attempt));
        continue;
      }
      if (!retryable_statuses.has(response.status) || attempt >= attempts_max) {
        return withAttempts(response, attempt);
      }
      const wait_ms = retryAfterMs(response.headers.get("retry-after")) ?? backoffMs(options, attempt);
      await response.body?.cancel();
      await sleep(Math.min(wait_ms, options.delay_ms_max));
    }
  };
}

const attempts_by_response = new WeakMap<Response, number>();

function withAttempts(response: Response, attempts: number): Response {
  attempts_by_response.set(response, attempts);
  return response;
}

/** How many attempts produced this response (1 when it came first time). */
export function attemptsOf(response: Response): number {
  return attempts_by_response.get(response) ?? 1;
}
