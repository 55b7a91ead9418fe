/** Plain-text tables for the listing commands (`user ls`, `team ls`, `robot ls`). */
import type { TextOut } from './io.js';

/** Writes `header` and `rows` as space-aligned columns; the last column is not padded. */
export function printTable(out: TextOut, header: string[], rows: string[][]): void {
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  for (const row of table) {
    const cells = row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] as number) : cell));
    out.write(`${cells.join('  ')}\n`);
  }
}
