import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex, verifyConsistency, verifyInclusion } from "../verify/index.ts";
import { MemoryTiledLog } from "./memory-log.ts";
import { ReferenceTree } from "./reference-tree.ts";
import { consistencyProofFromTiles, inclusionProofFromTiles, rootFromTiles } from "./tile-proofs.ts";
import { hashLeaf } from "./tree-hash.ts";

const vectors = JSON.parse(readFileSync(new URL("../../test/vectors/rfc6962.json", import.meta.url), "utf8"));

function leafFor(i: number, seed: number): Uint8Array {
  return hashLeaf(new TextEncoder().encode(`leaf ${seed}/${i}`));
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

// Builds the same tree both ways, appending in the given batch sizes.
function buildTrees(size: number, batches: number[], seed: number) {
  const reference = new ReferenceTree();
  const tiled = new MemoryTiledLog();
  const roots = new Map<bigint, Uint8Array>();
  let done = 0;
  for (let b = 0; done < size; b++) {
    const count = Math.min(size - done, batches[b % batches.length]!);
    const leaves = Array.from({ length: count }, (_, i) => leafFor(done + i, seed));
    for (const leaf of leaves) reference.append(leaf);
    const result = tiled.append(leaves);
    roots.set(result.size, result.root);
    done += count;
  }
  return { reference, tiled, roots };
}

describe("tiled tree against the reference tree", () => {
  // Proves the reference tree reproduces every published root and proof.
  it("reference tree matches the RFC 6962 vectors", () => {
    const tree = new ReferenceTree();
    for (const input of vectors.leafInputsHex) tree.append(hashLeaf(fromHex(input)));
    for (const { treeSize, rootHex } of vectors.rootsBySizeHex)
      expect(toHex(tree.root(BigInt(treeSize)))).toBe(rootHex);
    for (const v of vectors.inclusionProofs) {
      expect(tree.inclusionProof(BigInt(v.leafIndex), BigInt(v.treeSize)).map(toHex)).toEqual(v.pathHex);
    }
    for (const v of vectors.consistencyProofs) {
      expect(tree.consistencyProof(BigInt(v.size1), BigInt(v.size2)).map(toHex)).toEqual(v.pathHex);
    }
  });

  // Proves the appender's root after every batch, and the root recomputed from
  // tiles at every batch boundary, equal the reference MTH.
  it("appender roots equal reference roots across tile boundaries", async () => {
    const { reference, tiled, roots } = buildTrees(70_000, [1, 255, 256, 257, 3000, 65536], 1);
    for (const [size, root] of roots) {
      expect(toHex(root)).toBe(toHex(reference.root(size)));
      expect(toHex(await rootFromTiles(size, tiled.fetch))).toBe(toHex(root));
    }
  });

  // Proves, for random trees of 1..5000 leaves in random batches, that proofs
  // from the reference tree and from tiles are identical, verify with
  // clearsplit/verify, and fail after a bit flip or a wrong index or size.
  it("every sampled proof from both trees verifies and its mutations fail", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
            fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          ),
          {
            minLength: 4,
            maxLength: 8,
          },
        ),
        fc.nat(1 << 20),
        async (size_total, batches, samples, seed) => {
          const { reference, tiled, roots } = buildTrees(size_total, batches, seed);
          const sizes = [...roots.keys()];
          for (const [a, b] of samples) {
            const size2 = sizes[Math.floor(a * sizes.length) % sizes.length]!;
            const index = BigInt(Math.floor(b * Number(size2))) % size2;
            const root2 = roots.get(size2)!;
            const proof = await inclusionProofFromTiles(index, size2, tiled.fetch);
            expect(proof.map(toHex)).toEqual(reference.inclusionProof(index, size2).map(toHex));
            const leaf = leafFor(Number(index), seed);
            expect(await verifyInclusion(leaf, index, size2, proof, root2)).toBe(true);
            expect(await verifyInclusion(flipBit(leaf, 3), index, size2, proof, root2)).toBe(false);
            expect(await verifyInclusion(leaf, index + 1n, size2, proof, root2)).toBe(false);
            if (proof.length > 0) {
              const bit = Math.min(Math.floor(a * 256 * proof.length), 256 * proof.length - 1);
              const mutated = proof.map((node, i) => (i === bit >> 8 ? flipBit(node, bit & 255) : node));
              expect(await verifyInclusion(leaf, index, size2, mutated, root2)).toBe(false);
              expect(await verifyInclusion(leaf, index, size2, proof.slice(1), root2)).toBe(false);
            }
            const size1 = sizes[Math.floor(b * sizes.length) % sizes.length]!;
            if (size1 > size2) continue;
            const root1 = roots.get(size1)!;
            const consistency = await consistencyProofFromTiles(size1, size2, tiled.fetch);
            expect(consistency.map(toHex)).toEqual(reference.consistencyProof(size1, size2).map(toHex));
            expect(await verifyConsistency(size1, size2, consistency, root1, root2)).toBe(true);
            if (size1 < size2) {
              expect(await verifyConsistency(size1, size2, consistency, flipBit(root1, 7), root2)).toBe(
                false,
              );
              expect(await verifyConsistency(size1, size2, consistency, root1, flipBit(root2, 9))).toBe(
                false,
              );
              expect(await verifyConsistency(size1, size2, [...consistency, root1], root1, root2)).toBe(
                false,
              );
              const bit = Math.min(Math.floor(b * 256 * consistency.length), 256 * consistency.length - 1);
              const mutated = consistency.map((node, i) =>
                i === bit >> 8 ? flipBit(node, bit & 255) : node,
              );
              expect(await verifyConsistency(size1, size2, mutated, root1, root2)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
