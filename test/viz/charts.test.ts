/**
 * The charts in visualizations/ are what `npm run viz` draws from the machines now: each is drawn
 * again here and compared byte for byte with the committed file, so a machine that changed
 * without its chart being redrawn fails here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawChart } from '../../src/viz/draw-chart.js';
import { machineCharts } from '../../src/viz/machine-charts.js';

const VISUALIZATIONS = join(import.meta.dirname, '..', '..', 'visualizations');

describe('the committed state charts', () => {
  for (const chart of machineCharts()) {
    it(`visualizations/${chart.file} is the chart of the machine as it is now`, async () => {
      const drawn = await drawChart(chart);
      const committed = await readFile(join(VISUALIZATIONS, chart.file), 'utf8').catch(() => undefined);
      expect(committed, `visualizations/${chart.file} is missing: run npm run viz and commit it`).toBeDefined();
      const stale = firstDifference(drawn, committed ?? '');
      expect(stale, `visualizations/${chart.file} is not the chart of the machine as it is now (${stale}): run npm run viz and commit it`).toBeUndefined();
    });
  }
});

/** Where two texts part, as a line number and both lines, or undefined when they are the same. */
function firstDifference(drawn: string, committed: string): string | undefined {
  if (drawn === committed) return undefined;
  const a = drawn.split('\n');
  const b = committed.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: drawn ${JSON.stringify(a[at] ?? '(end)').slice(0, 200)}, committed ${JSON.stringify(b[at] ?? '(end)').slice(0, 200)}`;
}
