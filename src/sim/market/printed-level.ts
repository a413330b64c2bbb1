/**
 * A simulated book's price level with its price and size as printed. Snapshots, diffs and checksums print the same
 * levels many times a second, and printing a number is not free (it goes through BigInt arithmetic), so a level
 * keeps its strings and reprints its size only when the size changes.
 */
export interface PrintedLevel {
  readonly ticks: number;
  readonly px: string;
  lots: number;
  sz: string;
}
