// The demo marketplace generator: pure, deterministic from a seed.
export {
  type Category,
  categories,
  type DemoMarketplace,
  type DemoMerchant,
  type DemoParty,
  type DemoPartyKind,
  generateMarketplace,
  party_ids,
} from "./demo-marketplace.ts";
export { type DemoOrder, type DemoRefund, generateOrders, type OrderOptions } from "./demo-orders.ts";
export { pickWeighted, type Random, seededRandom } from "./random.ts";
