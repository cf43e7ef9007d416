/** A machine's chart from its definition to SVG text: read, lay out, draw. */
import { readChart } from './chart-graph.js';
import { layoutChart } from './chart-layout.js';
import { chartSvg } from './chart-svg.js';
import type { MachineChart } from './machine-charts.js';

export async function drawChart(chart: MachineChart): Promise<string> {
  const layout = await layoutChart(readChart(chart.machine), chart.direction);
  return chartSvg(layout, chart.title, 'Drawn from the machine definition by npm run viz; how to read it: visualizations/README.md');
}
