/**
 * The laid-out charts can be read: every box holds its text and sits inside its parent, no edge
 * label covers a box's text or another label, every edge has a route, the SVG names every state,
 * and the big IKE SA chart is a page rather than a strip.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readChart } from '../../src/viz/chart-graph.js';
import { BOX, layoutChart, type Box, type ChartLayout, type PlacedState } from '../../src/viz/chart-layout.js';
import { drawChart } from '../../src/viz/draw-chart.js';
import { machineCharts, type MachineChart } from '../../src/viz/machine-charts.js';

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

/** The part of a state's box its name and lines take (all of it for a state without children). */
function textArea(s: PlacedState): Box {
  const height = BOX.padY + s.name.height + (s.activities.lines.length > 0 ? BOX.gap + s.activities.height : 0) + BOX.padY;
  return { x: s.x, y: s.y, width: s.width, height: s.state.children.length > 0 ? height : s.height };
}

for (const chart of machineCharts()) {
  describe(`the ${chart.file} layout`, () => {
    let layout: ChartLayout;
    beforeAll(async () => {
      layout = await layoutChart(readChart(chart.machine), chart.direction);
    });

    it('gives every state a box wide and tall enough for its text, inside its parent', () => {
      const byId = new Map(layout.states.map((s) => [s.state.id, s]));
      for (const s of layout.states) {
        expect(s.width, `${s.state.id} width`).toBeGreaterThanOrEqual(Math.max(s.name.width, s.activities.width) + 2 * BOX.padX - 0.5);
        expect(s.height, `${s.state.id} height`).toBeGreaterThanOrEqual(textArea(s).height - 0.5);
        for (const child of s.state.children) expect(inside(byId.get(child.id) as Box, s), `${child.id} inside ${s.state.id}`).toBe(true);
      }
    });

    it('puts no edge label over a state text or another label, and routes every edge', () => {
      const labels = layout.edges.flatMap((e) => (e.label === undefined ? [] : [e.label]));
      expect(labels.length).toBeGreaterThan(0);
      for (const label of labels) {
        for (const s of layout.states) expect(overlap(label, textArea(s)), `${label.text.lines[0]} over ${s.state.id}`).toBe(false);
        for (const other of labels) if (other !== label) expect(overlap(label, other), `${label.text.lines[0]} over ${other.text.lines[0]}`).toBe(false);
      }
      for (const e of layout.edges) expect(e.points.length, `${e.source} → ${e.target}`).toBeGreaterThanOrEqual(2);
    });
  });
}

describe('the drawn SVG', () => {
  const ikeSa = machineCharts().find((c) => c.file === 'ike-sa.svg') as MachineChart;
  let svg: string;
  beforeAll(async () => {
    svg = await drawChart(ikeSa);
  });

  it('has a title and a box for every state of the IKE SA', () => {
    expect(svg).toContain(`<title>${ikeSa.title}</title>`);
    const drawn = new Set([...svg.matchAll(/data-state="([^"]*)"/g)].map((m) => m[1]));
    const graph = readChart(ikeSa.machine);
    const all = (s: typeof graph.root): string[] => [s.id, ...s.children.flatMap(all)];
    expect(drawn).toContain('ikeSa.established.window.rekeyingIke.awaitingResponse');
    expect([...drawn].sort()).toEqual(all(graph.root).sort());
  });

  it('lays the IKE SA chart out as a page, not a strip', () => {
    const size = /<svg [^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg);
    const [width, height] = [Number(size?.[1]), Number(size?.[2])];
    expect(width / height).toBeLessThan(2);
    expect(height / width).toBeLessThan(2);
  });
});
