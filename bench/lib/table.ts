/** Prints rows as an aligned plain-text table (numbers right-aligned), for benchmark output. */
export function printTable(headers: string[], rows: (string | number)[][], title?: string): void {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => /^[-\d.,]+( ?[a-zA-Z/%×]+)?$|^-$/.test(String(row[i] ?? ''))));
  const line = (row: string[]) =>
    row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  if (title) console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}
