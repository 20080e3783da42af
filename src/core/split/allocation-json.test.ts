import { describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import policy_json from "../../../examples/policies/b2b2c.json" with { type: "json" };
import { allocate, allocationFromJson, allocationToJson, loadPolicy, parseOrder } from "./index.ts";

describe("allocation JSON", () => {
  it("reads back exactly what it wrote", () => {
    const { policy, policy_hash } = loadPolicy(policy_json);
    const allocation = allocate(policy, parseOrder(order_json), { policy_hash });
    const json = allocationToJson(allocation);
    expect(allocationFromJson(json)).toEqual(allocation);
    expect(JSON.stringify(allocationToJson(allocationFromJson(json)))).toBe(JSON.stringify(json));
  });
});
