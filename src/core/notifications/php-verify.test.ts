import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, webhookHeaders } from "./webhook-signature.ts";

// The PHP verifier from docs/notifications.md (examples/webhooks/verify.php),
// run by a real php-cli: it accepts what ClearSplit signs, with one secret and
// during a rotation, checks the published test vector, and rejects tampering.

const run = promisify(execFile);
const script = fileURLToPath(new URL("../../../examples/webhooks/verify.php", import.meta.url));

async function php(
  secret: string,
  body: string,
  headers: Record<string, string>,
  now_s: number,
): Promise<string> {
  const code = `require getenv('SCRIPT');
try {
  $m = clearsplit_verify(getenv('SECRET'), getenv('BODY'), json_decode(getenv('HEADERS'), true), 300, (int) getenv('NOW'));
  echo 'ok:' . json_encode($m);
} catch (Throwable $e) { echo 'rejected:' . $e->getMessage(); }`;
  const { stdout } = await run("php", ["-r", code], {
    env: {
      ...process.env,
      SCRIPT: script,
      SECRET: secret,
      BODY: body,
      HEADERS: JSON.stringify(headers),
      NOW: String(now_s),
    },
  });
  return stdout;
}

describe("PHP verification example", () => {
  it("accepts the published test vector", async () => {
    const headers = {
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    };
    expect(
      await php("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", '{"test": 2432232314}', headers, 1614265330),
    ).toBe('ok:{"test":2432232314}');
  });

  it("accepts ClearSplit's signatures with either secret during a rotation, and rejects tampering and stale timestamps", async () => {
    const [old_secret, new_secret] = [newWebhookSecret(), newWebhookSecret()];
    const now_s = Math.floor(Date.now() / 1_000);
    const body = JSON.stringify({
      id: "e-1",
      type: "order.booked",
      sequence: 7,
      data: { order_id: "订单-1" },
    });
    const headers = webhookHeaders([new_secret, old_secret], "e-1", now_s, body);
    expect(await php(new_secret, body, headers, now_s)).toMatch(/^ok:.*"sequence":7/);
    expect(await php(old_secret, body, headers, now_s)).toMatch(/^ok:/);
    expect(await php(newWebhookSecret(), body, headers, now_s)).toBe("rejected:no valid signature");
    expect(await php(new_secret, body.replace("7", "8"), headers, now_s)).toBe("rejected:no valid signature");
    expect(await php(new_secret, body, headers, now_s + 600)).toBe(
      "rejected:stale or missing webhook-timestamp",
    );
  });
});
