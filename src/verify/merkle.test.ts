import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, leafHash, verifyConsistency, verifyInclusion } from "./index.ts";

interface Vectors {
  emptyTreeHashHex: string;
  leafInputsHex: string[];
  leafHashesHex: string[];
  inclusionProofs: {
    leafIndex: number;
    treeSize: number;
    pathHex: string[];
    leafHashHex: string;
    rootHex: string;
  }[];
  consistencyProofs: {
    size1: number;
    size2: number;
    pathHex: string[];
    root1Hex: string;
    root2Hex: string;
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../../test/vectors/rfc6962.json", import.meta.url), "utf8"),
) as Vectors;

// The hashing "shape" the RFC 9162 algorithms follow for given sizes, without
// hashing. A proof does not commit to the tree size by itself (the signed
// checkpoint does): a size mutation with an identical shape legitimately
// verifies, so mutations are asserted to fail exactly when the shape changes.
function inclusionShape(index: bigint, size: bigint, proof_length: number): string {
  if (index < 0n || index >= size) return "invalid";
  let fn = index;
  let sn = size - 1n;
  let shape = "";
  for (let i = 0; i < proof_length; i++) {
    if (sn === 0n) return "invalid";
    if ((fn & 1n) === 1n || fn === sn) {
      shape += "L";
      while ((fn & 1n) === 0n && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else shape += "R";
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sn === 0n ? shape : "invalid";
}

function consistencyShape(size1: bigint, size2: bigint, proof_length: number): string {
  if (size1 <= 0n || size1 >= size2 || proof_length === 0) return "invalid";
  const prepend = (size1 & (size1 - 1n)) === 0n;
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) [fn, sn] = [fn >> 1n, sn >> 1n];
  let shape = prepend ? "P" : "-";
  for (let i = 1; i < proof_length + (prepend ? 1 : 0); i++) {
    if (sn === 0n) return "invalid";
    if ((fn & 1n) === 1n || fn === sn) {
      shape += "L";
      while ((fn & 1n) === 0n && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else shape += "R";
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sn === 0n ? shape : "invalid";
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

// Every single-bit flip of every proof node, systematically, plus structural
// mutations; each yields a proof that must not verify.
function* proofMutations(proof: Uint8Array[]): Generator<[string, Uint8Array[]]> {
  for (let n = 0; n < proof.length; n++) {
    for (let bit = 0; bit < 256; bit++) {
      yield [`node ${n} bit ${bit}`, proof.map((node, i) => (i === n ? flipBit(node, bit) : node))];
    }
  }
  if (proof.length > 0) yield ["truncated", proof.slice(0, -1)];
  if (proof.length > 0) yield ["first node dropped", proof.slice(1)];
  yield ["extended with zeros", [...proof, new Uint8Array(32)]];
  yield ["extended with a copy", [...proof, proof[0] ?? new Uint8Array(32)]];
  for (let i = 0; i + 1 < proof.length; i++) {
    const swapped = proof.slice();
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    if (swapped.some((node, j) => node !== proof[j] && !node.every((b, k) => b === proof[j]![k]))) {
      yield [`nodes ${i},${i + 1} swapped`, swapped];
    }
  }
  yield [
    "node of 31 bytes",
    proof.length > 0 ? [proof[0]!.slice(1), ...proof.slice(1)] : [new Uint8Array(31)],
  ];
}

describe("RFC 6962 vectors through clearsplit/verify", () => {
  // Proves the leaf hash rule H(0x00 ‖ d) against the published leaf hashes.
  it("hashes leaves", async () => {
    for (const [i, input] of vectors.leafInputsHex.entries()) {
      expect(Buffer.from(await leafHash(fromHex(input))).toString("hex")).toBe(vectors.leafHashesHex[i]);
    }
  });

  // Proves every published inclusion proof verifies and every mutation of it fails.
  it.each(vectors.inclusionProofs)("inclusion $leafIndex in $treeSize", async (v) => {
    const leaf = fromHex(v.leafHashHex);
    const root = fromHex(v.rootHex);
    const proof = v.pathHex.map(fromHex);
    const index = BigInt(v.leafIndex);
    const size = BigInt(v.treeSize);
    expect(await verifyInclusion(leaf, index, size, proof, root)).toBe(true);
    for (const [, mutated] of proofMutations(proof)) {
      expect(await verifyInclusion(leaf, index, size, mutated, root)).toBe(false);
    }
    for (let bit = 0; bit < 256; bit++) {
      expect(await verifyInclusion(leaf, index, size, proof, flipBit(root, bit))).toBe(false);
      expect(await verifyInclusion(flipBit(leaf, bit), index, size, proof, root)).toBe(false);
    }
    for (const [i, s] of [
      [index + 1n, size],
      [index - 1n, size],
      [index, size + 1n],
      [index, size - 1n],
      [index, size * 2n],
      [size, size],
      [index, 0n],
      [-1n, size],
    ] as const) {
      const same = inclusionShape(i, s, proof.length) === inclusionShape(index, size, proof.length);
      expect(await verifyInclusion(leaf, i, s, proof, root)).toBe(same);
    }
  });

  // Proves every published consistency proof verifies and every mutation of it fails.
  it.each(vectors.consistencyProofs)("consistency $size1 → $size2", async (v) => {
    const root1 = fromHex(v.root1Hex);
    const root2 = fromHex(v.root2Hex);
    const proof = v.pathHex.map(fromHex);
    const size1 = BigInt(v.size1);
    const size2 = BigInt(v.size2);
    expect(await verifyConsistency(size1, size2, proof, root1, root2)).toBe(true);
    for (const [, mutated] of proofMutations(proof)) {
      expect(await verifyConsistency(size1, size2, mutated, root1, root2)).toBe(false);
    }
    for (let bit = 0; bit < 256; bit++) {
      expect(await verifyConsistency(size1, size2, proof, flipBit(root1, bit), root2)).toBe(false);
      expect(await verifyConsistency(size1, size2, proof, root1, flipBit(root2, bit))).toBe(false);
    }
    for (const [s1, s2] of [
      [size1 + 1n, size2],
      [size1 - 1n, size2],
      [size1, size2 + 1n],
      [size1, size2 - 1n],
      [size1, size2 * 2n],
      [size2, size1],
      [0n, size2],
    ] as const) {
      if (s1 === size1 && s2 === size2) continue;
      const original = consistencyShape(size1, size2, proof.length);
      const same = original !== "invalid" && consistencyShape(s1, s2, proof.length) === original;
      expect(await verifyConsistency(s1, s2, proof, root1, root2)).toBe(same);
    }
  });

  // Proves the edge policy: equal sizes need an empty proof and equal roots; size1 = 0 is refused.
  it("applies the edge policy", async () => {
    const empty = fromHex(vectors.emptyTreeHashHex);
    const leaf = fromHex(vectors.leafHashesHex[0]!);
    expect(await verifyConsistency(3n, 3n, [], leaf, leaf)).toBe(true);
    expect(await verifyConsistency(3n, 3n, [leaf], leaf, leaf)).toBe(false);
    expect(await verifyConsistency(3n, 3n, [], leaf, empty)).toBe(false);
    expect(await verifyConsistency(0n, 1n, [], empty, leaf)).toBe(false);
    expect(await verifyConsistency(0n, 1n, [leaf], empty, leaf)).toBe(false);
    expect(await verifyInclusion(leaf, 0n, 0n, [], empty)).toBe(false);
    expect(await verifyInclusion(leaf, 1n, 1n, [], leaf)).toBe(false);
  });

  // Proves malformed inputs resolve false instead of throwing.
  it("never throws on malformed input", async () => {
    const leaf = fromHex(vectors.leafHashesHex[0]!);
    const bad: unknown[] = [null, undefined, 3, "x", [null], [new Uint8Array(33)], {}, 1n << 70n, -5n];
    for (const value of bad) {
      const v = value as never;
      await expect(verifyInclusion(v, 0n, 1n, [], leaf)).resolves.toBe(false);
      await expect(verifyInclusion(leaf, v, 1n, [], leaf)).resolves.toBe(false);
      await expect(verifyInclusion(leaf, 0n, v, [], leaf)).resolves.toBe(false);
      await expect(verifyInclusion(leaf, 0n, 1n, v, leaf)).resolves.toBe(false);
      await expect(verifyConsistency(v, 2n, [leaf], leaf, leaf)).resolves.toBe(false);
      await expect(verifyConsistency(1n, 2n, v, leaf, leaf)).resolves.toBe(false);
      await expect(verifyConsistency(1n, 2n, [leaf], v, leaf)).resolves.toBe(false);
    }
    // Indexes beyond 2^31 and 2^53 exercise the BigInt arithmetic.
    await expect(verifyInclusion(leaf, (1n << 40n) + 3n, 1n << 41n, [leaf], leaf)).resolves.toBe(false);
  });
});
