import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tilePath } from "../verify/index.ts";
import { consistencyRanges, inclusionRanges } from "./proof-ranges.ts";
import { partialTilesAt, tileCountsAt } from "./tile-math.ts";

interface TileSet {
  treeSize: number;
  expect: { level: number; fullTiles: number; partialWidth: number }[];
}

const vectors = JSON.parse(readFileSync(new URL("../../test/vectors/rfc6962.json", import.meta.url), "utf8"));
const tile_sets: TileSet[] = vectors.tlogTiles.tileSets;

describe("tile geometry and proof ranges", () => {
  // Proves the tile counts and partial widths match the C2SP tlog-tiles worked examples.
  it.each(tile_sets)("tiles at size $treeSize", ({ treeSize, expect: want }) => {
    const got = tileCountsAt(BigInt(treeSize)).map((t) => ({
      level: t.level,
      fullTiles: Number(t.fullTiles),
      partialWidth: t.partialWidth,
    }));
    expect(got).toEqual(want);
    const partial = want.filter((t) => t.partialWidth > 0).map((t) => t.partialWidth);
    expect(partialTilesAt(BigInt(treeSize)).map((t) => t.width)).toEqual(partial);
  });

  // Proves the tile path encoding, including the spec's x001/x234/067 example and partial tiles.
  it("formats tile paths", () => {
    for (const { index, pathElements } of vectors.tlogTiles.indexPathEncoding) {
      expect(tilePath(0, BigInt(index))).toBe(`tile/0/${pathElements}`);
    }
    expect(tilePath(0, 1234067n, 112)).toBe("tile/0/x001/x234/067.p/112");
    expect(tilePath(2, 0n, 1)).toBe("tile/2/000.p/1");
    expect(tilePath(1, 999n)).toBe("tile/1/999");
    expect(tilePath(1, 1000n)).toBe("tile/1/x001/000");
    expect(() => tilePath(0, -1n)).toThrow();
    expect(() => tilePath(0, 0n, 0)).toThrow();
    expect(() => tilePath(0, 0n, 257)).toThrow();
  });

  // Proves the proof ranges equal the RFC 9162 §2.1.5 worked example, node for node.
  it("matches the RFC 9162 example ranges", () => {
    for (const v of vectors.rfc9162Example.inclusion) {
      expect(inclusionRanges(BigInt(v.leafIndex), BigInt(v.treeSize)).map((r) => r.map(Number))).toEqual(
        v.ranges,
      );
    }
    for (const v of vectors.rfc9162Example.consistency) {
      expect(consistencyRanges(BigInt(v.size1), BigInt(v.size2)).map((r) => r.map(Number))).toEqual(v.ranges);
    }
  });
});
