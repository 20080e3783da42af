import { setFlagsFromString } from "node:v8";
import { heap_growing_percent_default, heap_growing_percent_max } from "../core/limits.ts";

// How far V8 lets the server's old generation grow past what the last full
// collection left alive before it collects again (decisions §33). By default
// V8 allows up to four times the live heap on a machine with a few GB of
// memory, and the server allocates fast (about 70 KiB per order), so its
// resident set was mostly garbage waiting for the next full collection: a live
// heap of about 70 MB and an RSS of 470–650 MB in `bench`. A factor read at
// every collection, it can be set at run time, before any load.

/** Sets the heap's growing factor from `CLEARSPLIT_HEAP_GROWING_PERCENT` (0: V8's own policy); returns the percent applied, or an error text. */
export function applyHeapGrowth(text: string | undefined): number | string {
  const percent = text === undefined || text === "" ? heap_growing_percent_default : Number(text);
  if (!Number.isInteger(percent) || percent < 0 || percent > heap_growing_percent_max)
    return `CLEARSPLIT_HEAP_GROWING_PERCENT must be 0-${heap_growing_percent_max}, got ${JSON.stringify(text)}`;
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
