import { describe, expect, it } from "vitest";
import { head_bytes_max, type ReadResult, ResponseReader } from "./http-response-reader.ts";

// The response reader against responses as receivers send them, each fed
// whole and byte by byte (the result must not depend on how the bytes were
// cut), then systematic breakages.

type Case = {
  desc: string;
  bytes: string;
  /** The connection ends after the bytes. */
  ends?: boolean;
  want: ReadResult;
};

const done = (status_code: number, reusable: boolean, retry_after: string | null = null): ReadResult => ({
  kind: "done",
  status_code,
  retry_after,
  reusable,
});

const cases: Case[] = [
  { desc: "204, no body", bytes: "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", want: done(204, true) },
  {
    desc: "200 with a Content-Length body",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    want: done(200, true),
  },
  { desc: "Content-Length 0", bytes: "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", want: done(200, true) },
  {
    desc: "chunked, with an extension and trailers",
    bytes:
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
    want: done(200, true),
  },
  {
    desc: "100 Continue before the final answer",
    bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
    want: done(202, true),
  },
  {
    desc: "429 with Retry-After",
    bytes: "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
    want: done(429, true, "120"),
  },
  {
    desc: "Connection: close",
    bytes: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    want: done(200, false),
  },
  {
    desc: "HTTP/1.0 closes by default",
    bytes: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    want: done(200, false),
  },
  {
    desc: "HTTP/1.0 asking to keep alive",
    bytes: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    want: done(200, true),
  },
  {
    desc: "a body read until the connection closes",
    bytes: "HTTP/1.1 500 Internal Server Error\r\n\r\nsomething broke",
    ends: true,
    want: done(500, false),
  },
  {
    desc: "a body over the bound: the answer stands, the connection is dropped",
    bytes: `HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${"x".repeat(4_097)}`,
    want: done(200, false),
  },
  {
    desc: "bytes after the response: the connection is not reused",
    bytes: "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    want: done(204, false),
  },
  {
    desc: "not HTTP",
    bytes: "SSH-2.0-OpenSSH_9.6\r\n\r\n",
    want: { kind: "invalid", error: "not an HTTP/1.x response" },
  },
  {
    desc: "a status out of range",
    bytes: "HTTP/1.1 020 Odd\r\n\r\n",
    want: { kind: "invalid", error: "not an HTTP/1.x response" },
  },
  {
    desc: "switching protocols",
    bytes: "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    want: { kind: "invalid", error: "the receiver switched protocols" },
  },
  {
    desc: "two different Content-Lengths",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    want: { kind: "invalid", error: "bad Content-Length" },
  },
  {
    desc: "a header line without a colon",
    bytes: "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n",
    want: { kind: "invalid", error: "malformed response header" },
  },
  {
    desc: "a bad chunk size",
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    want: { kind: "invalid", error: "bad chunk size" },
  },
  {
    desc: "a head that never ends",
    bytes: `HTTP/1.1 200 OK\r\nX: ${"y".repeat(head_bytes_max)}`,
    want: { kind: "invalid", error: "response head too long" },
  },
  {
    desc: "cut short in the body",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    ends: true,
    want: { kind: "invalid", error: "the connection closed mid-response" },
  },
  { desc: "closed before any byte", bytes: "", ends: true, want: { kind: "invalid", error: "no answer" } },
];

function read(bytes: Buffer[], ends: boolean): ReadResult {
  const reader = new ResponseReader(4_096);
  let result: ReadResult = { kind: "more" };
  for (const [i, chunk] of bytes.entries()) {
    result = reader.feed(chunk);
    if (result.kind === "more") continue;
    // Bytes still to come after a complete response make the client drop the connection.
    return result.kind === "done" && i < bytes.length - 1 ? { ...result, reusable: false } : result;
  }
  return ends ? reader.end() : result;
}

describe("ResponseReader", () => {
  for (const { desc, bytes, ends, want } of cases)
    it(`${desc}: the same result fed whole and byte by byte`, () => {
      const buffer = Buffer.from(bytes, "latin1");
      expect(read([buffer], ends === true)).toEqual(want);
      const one_by_one = [...buffer].map((byte) => Buffer.from([byte]));
      expect(read(one_by_one, ends === true)).toEqual(want);
    });

  it("waits for the rest of a body, and tells whether any byte came", () => {
    const reader = new ResponseReader(4_096);
    expect(reader.started).toBe(false);
    expect(reader.feed(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"))).toEqual({
      kind: "more",
    });
    expect(reader.started).toBe(true);
    expect(reader.feed(Buffer.from("cd"))).toEqual(done(200, true));
  });
});
