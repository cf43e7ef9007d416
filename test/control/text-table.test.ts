import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/control/text-table.js';

describe('renderTable', () => {
  it('pads each column to its widest cell', () => {
    expect(renderTable(['A', 'BB'], [['xyz', 'q'], ['', 'longer']]).split('\n')).toEqual(['A    BB', '---  ------', 'xyz  q', '     longer']);
  });

  it('renders a status of 200 000 rows (more than a call takes arguments)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [String(i), 'x']);
    const lines = renderTable(['n', 'v'], rows).split('\n');
    expect(lines).toHaveLength(200_002);
    expect(lines[1]).toBe('------  -');
    expect(lines.at(-1)).toBe('199999  x');
  });
});
