import { Agent, request } from "node:http";
import { assert } from "../core/assert.ts";

// A minimal keep-alive JSON client for the HTTP scenarios: node:http with one
// pooled socket per concurrent client costs less CPU than fetch, and the bench
// shares the CPU with the server it measures.

export const response_bytes_max = 64 * 1024 * 1024;

export interface JsonResponse {
  status: number;
  body: unknown;
}

export class BenchClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    base_url: string,
    private readonly api_key: string,
    sockets_max: number,
  ) {
    this.url = new URL(base_url);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets_max, maxFreeSockets: sockets_max });
  }

  post(path: string, payload: unknown): Promise<JsonResponse> {
    return this.send("POST", path, JSON.stringify(payload));
  }

  get(path: string): Promise<JsonResponse> {
    return this.send("GET", path, null);
  }

  private send(method: "GET" | "POST", path: string, body: string | null): Promise<JsonResponse> {
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.api_key}` };
    if (body !== null) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method, path, headers },
        (response) => {
          const chunks: Buffer[] = [];
          let length = 0;
          response.on("data", (chunk: Buffer) => {
            length += chunk.length;
            assert(length <= response_bytes_max, "a bench response stays under response_bytes_max");
            chunks.push(chunk);
          });
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              resolve({ status: response.statusCode ?? 0, body: text === "" ? null : JSON.parse(text) });
            } catch (error) {
              reject(error);
            }
          });
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
