// Shared benchmark helpers: statistics and the printed table.

/** The q-quantile (0..1) of numbers. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const median = (values) => quantile(values, 0.5);

/** Prints rows of cells as an aligned table under a title. */
export function printTable(title, header, rows) {
  const widths = header.map((cell, i) => Math.max(String(cell).length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

export const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));

/**
 * Milliseconds on the process's monotonic clock, comparable across threads. (Not
 * `performance.timeOrigin + performance.now()`: each thread samples its own time origin, and
 * they disagree by up to a millisecond.)
 */
export const processClockMs = () => Number(process.hrtime.bigint()) / 1e6;
