import { assert } from "../../core/assert.ts";

// Reads one HTTP/1.x response from the bytes of a connection, as they come:
// pure, no I/O, so the webhook client (webhook-http.ts) and its tests feed it
// whatever chunks they have. It keeps only what the sender needs: the status
// code, Retry-After, whether the connection can carry another request, and a
// count of the body's bytes (the body itself is dropped). It understands the
// framings RFC 9112 gives a response to a POST: Content-Length, chunked, and
// read-until-close; skips 1xx interim responses; and stops reading a body at
// `body_bytes_max`, when the connection is closed instead of drained.

/** Status line and headers together, at most (Node's own limit is 16 KiB). */
export const head_bytes_max = 16_384;

export type ReadResult =
  /** Needs more bytes (or, for a read-until-close body, the end of the connection). */
  | { kind: "more" }
  | {
      kind: "done";
      status_code: number;
      retry_after: string | null;
      /** The connection may carry the next request: framed, drained exactly, not asked to close. */
      reusable: boolean;
    }
  | { kind: "invalid"; error: string };

type Framing = "none" | "length" | "chunked" | "close";

export class ResponseReader {
  /** Bytes not consumed yet, as latin1 text (one character a byte). */
  private text = "";
  private head: { status_code: number; retry_after: string | null; keep_alive: boolean } | null = null;
  private framing: Framing = "none";
  /** Body bytes still to come of a Content-Length body, or of the current chunk. */
  private remaining = 0;
  private chunk_state: "size" | "data" | "data_end" | "trailers" = "size";
  private body_bytes = 0;
  private finished: ReadResult | null = null;

  constructor(private readonly body_bytes_max: number) {
    assert(body_bytes_max >= 0, "body bound must not be negative");
  }

  /** Whether any byte of a response has arrived (a reused connection that fails before one was stale). */
  started = false;

  feed(chunk: Buffer): ReadResult {
    if (this.finished !== null) return { kind: "invalid", error: "bytes after the response" };
    if (chunk.length > 0) this.started = true;
    this.text += chunk.toString("latin1");
    return this.advance();
  }

  /** The connection ended: a read-until-close body is complete; anything else is cut short. */
  end(): ReadResult {
    if (this.finished !== null) return this.finished;
    if (this.head !== null && this.framing === "close") return this.finish(false);
    return { kind: "invalid", error: this.started ? "the connection closed mid-response" : "no answer" };
  }

  private advance(): ReadResult {
    for (;;) {
      if (this.head === null) {
        const parsed = this.readHead();
        if (parsed !== null) return parsed;
        if (this.head === null) continue; // an interim response: the final head follows
      }
      return this.readBody();
    }
  }

  /** Consumes one head: null when it did (a 1xx, or the final head), else `more` or `invalid`. */
  private readHead(): ReadResult | null {
    const end = this.text.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.text.length > head_bytes_max) return { kind: "invalid", error: "response head too long" };
      return { kind: "more" };
    }
    if (end > head_bytes_max) return { kind: "invalid", error: "response head too long" };
    const lines = this.text.slice(0, end).split("\r\n");
    this.text = this.text.slice(end + 4);
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/.exec(lines[0]!);
    if (status === null) return { kind: "invalid", error: "not an HTTP/1.x response" };
    const status_code = Number(status[2]);
    if (status_code === 101) return { kind: "invalid", error: "the receiver switched protocols" };
    if (status_code < 200) return null; // interim (100 Continue, 103 Early Hints): the final one follows
    let length: number | null = null;
    let chunked = false;
    let retry_after: string | null = null;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) return { kind: "invalid", error: "malformed response header" };
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (length !== null && length !== Number(value)))
          return { kind: "invalid", error: "bad Content-Length" };
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      else if (name === "retry-after") retry_after ??= value;
      else if (name === "connection") connection += `,${value.toLowerCase()}`;
    }
    const http_1_1 = status[1] === "1";
    const keep_alive = http_1_1
      ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection)
      : /keep-alive/.test(connection);
    this.head = { status_code, retry_after, keep_alive };
    if (status_code === 204 || status_code === 304) this.framing = "none";
    else if (chunked) this.framing = "chunked";
    else if (length !== null) {
      this.framing = length === 0 ? "none" : "length";
      this.remaining = length;
    } else this.framing = "close";
    return null;
  }

  /** Consumes the body bytes there are: `more`, or the response complete (or bad). */
  private readBody(): ReadResult {
    switch (this.framing) {
      case "none":
        return this.finish(this.text.length === 0);
      case "length": {
        const taken = Math.min(this.remaining, this.text.length);
        this.remaining -= taken;
        this.text = this.text.slice(taken);
        if (this.count(taken)) return this.finish(false);
        if (this.remaining > 0) return { kind: "more" };
        return this.finish(this.text.length === 0);
      }
      case "close":
        if (this.count(this.text.length)) return this.finish(false);
        this.text = "";
        return { kind: "more" };
      case "chunked":
        return this.readChunks();
    }
  }

  private readChunks(): ReadResult {
    for (;;) {
      if (this.chunk_state === "size") {
        const end = this.text.indexOf("\r\n");
        if (end < 0)
          return this.text.length > 1_024 ? { kind: "invalid", error: "bad chunk" } : { kind: "more" };
        const size = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(this.text.slice(0, end));
        if (size === null) return { kind: "invalid", error: "bad chunk size" };
        this.text = this.text.slice(end + 2);
        this.remaining = Number.parseInt(size[1]!, 16);
        this.chunk_state = this.remaining === 0 ? "trailers" : "data";
      } else if (this.chunk_state === "data") {
        const taken = Math.min(this.remaining, this.text.length);
        this.remaining -= taken;
        this.text = this.text.slice(taken);
        if (this.count(taken)) return this.finish(false);
        if (this.remaining > 0) return { kind: "more" };
        this.chunk_state = "data_end";
      } else if (this.chunk_state === "data_end") {
        if (this.text.length < 2) return { kind: "more" };
        if (!this.text.startsWith("\r\n")) return { kind: "invalid", error: "bad chunk end" };
        this.text = this.text.slice(2);
        this.chunk_state = "size";
      } else {
        // Trailer lines, if any, then an empty line.
        const end = this.text.indexOf("\r\n");
        if (end < 0)
          return this.text.length > head_bytes_max
            ? { kind: "invalid", error: "trailers too long" }
            : { kind: "more" };
        this.text = this.text.slice(end + 2);
        if (end === 0) return this.finish(this.text.length === 0);
      }
    }
  }

  /** Counts body bytes; true when the bound is passed and reading stops. */
  private count(bytes: number): boolean {
    this.body_bytes += bytes;
    return this.body_bytes > this.body_bytes_max;
  }

  private finish(drained_exactly: boolean): ReadResult {
    const head = this.head;
    assert(head !== null, "a response finishes after its head");
    const reusable = drained_exactly && head.keep_alive && this.framing !== "close";
    this.finished = { kind: "done", status_code: head.status_code, retry_after: head.retry_after, reusable };
    return this.finished;
  }
}
