/** Renders rows as a fixed-width text table for terminals (no colours: output is often piped). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...column): a status of 100 000 SAs has more rows than a call has room for arguments.
  const widths = headers.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] ?? 0, (row[i] ?? '').length);
  }
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = [line(headers), rule];
  for (const row of rows) lines.push(line(row));
  return lines.join('\n');
}
