import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postWebhook } from "./webhook-http.ts";

// A kept-alive connection the receiver has dropped fails the next request
// before any answer; the sender goes again at once on a fresh connection
// instead of leaving the delivery to the retry schedule.

let server: Server;
let url: string;
const connections = new Set<Socket>();
let requests = 0;

beforeAll(async () => {
  const served = new WeakMap<Socket, number>();
  server = createServer((request, response) => {
    requests++;
    const socket = request.socket;
    const count = (served.get(socket) ?? 0) + 1;
    served.set(socket, count);
    // The second request on a connection finds it gone, as after the receiver's idle timeout.
    if (count > 1) {
      socket.destroy();
      return;
    }
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  server.on("connection", (socket: Socket) => connections.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("postWebhook", () => {
  it("sends again on a fresh connection when a reused one was closed under it", async () => {
    const first = await postWebhook(url, { "webhook-id": "msg_1" }, "{}", true);
    expect(first).toMatchObject({ status_code: 204, error: null });
    // Let the first socket go back to the agent's free pool.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await postWebhook(url, { "webhook-id": "msg_2" }, "{}", true);
    expect(second).toMatchObject({ status_code: 204, error: null });
    expect(connections.size).toBe(2);
    expect(requests).toBe(3);
  });
});
