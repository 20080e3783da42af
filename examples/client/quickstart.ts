// The typed client in five steps, against a running server (the demo works):
//
//   npm start            # in another terminal; it prints a platform key
//   CLEARSPLIT_URL=http://127.0.0.1:3000 CLEARSPLIT_KEY=cs_live_… npx tsx examples/client/quickstart.ts
//
// Books an order, lists orders across pages, refunds part of the order, and
// prints the typed error a bad order gets. Exits 0 when every step succeeded.
import { ClearSplitError, createClearSplitClient } from "../../src/client/index.ts";

const baseUrl = process.env.CLEARSPLIT_URL ?? "http://127.0.0.1:3000";
const apiKey = process.env.CLEARSPLIT_KEY;
if (!apiKey) {
  console.error("set CLEARSPLIT_KEY to a platform_admin or integration API key");
  process.exit(2);
}
const client = createClearSplitClient({ baseUrl, apiKey });

// 1. A merchant to sell for: the first one the platform has.
let merchant_id: string | undefined;
for await (const party of client.parties.list({ kind: "merchant" })) {
  merchant_id = party.id;
  break;
}
if (merchant_id === undefined) throw new Error("the marketplace has no merchant; run the demo or create one");

// 2. Book an order. The client sends an Idempotency-Key and reuses it if it retries.
const order_id = `QS-${Date.now()}`;
const order = {
  id: order_id,
  currency: "CNY",
  paid_at: new Date(Date.now() - 60_000).toISOString(),
  merchant_id,
  lines: [{ line_id: "1", sku: "TEE-1", category: "apparel", qty: 2, unit_price_minor: 9_900 }],
  paid_minor: 19_800,
  psp: { provider: "wechat", reference: `QS${Date.now()}`, fee_minor: 119 },
};
const booked = await client.orders.create(order);
console.log(`booked ${order_id}:`);
for (const leg of booked.legs) console.log(`  ${leg.party_id.padEnd(12)} ${String(leg.amount_minor).padStart(8)}  ${leg.rule_id}`);

// 3. Every order, page by page, without handling cursors by hand.
let count = 0;
for await (const _ of client.orders.list({ limit: 50 })) count += 1;
console.log(`listed ${count} orders`);

// 4. Refund part of it: each party gives back its share, exactly.
const refunded = await client.orders.refund(order_id, { refund_id: `${order_id}-R1`, amount_minor: 5_000 });
console.log(`refunded ${refunded.refund.amount_minor} of ${order_id}`);

// 5. A bad order comes back as a typed error: status, code and the field at fault.
try {
  await client.orders.create({ ...order, id: `${order_id}-BAD`, paid_minor: order.paid_minor + 1 });
  throw new Error("a wrong paid_minor was accepted");
} catch (error) {
  if (!(error instanceof ClearSplitError)) throw error;
  console.log(`refused: ${error.status} ${error.code} (field ${error.field}): ${error.message}`);
}
