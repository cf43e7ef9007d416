/**
 * `npm run viz`: draws each machine's state chart into visualizations/ (a test fails while a
 * committed chart differs from what its machine gives now).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drawChart } from './draw-chart.js';
import { machineCharts } from './machine-charts.js';

const VISUALIZATIONS = join(import.meta.dirname, '..', '..', 'visualizations');

for (const chart of machineCharts()) {
  const svg = await drawChart(chart);
  const path = join(VISUALIZATIONS, chart.file);
  await writeFile(path, svg);
  const size = /width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  console.log(`${join('visualizations', chart.file)}: ${size?.[1]} × ${size?.[2]} px, ${Buffer.byteLength(svg)} bytes`);
}
