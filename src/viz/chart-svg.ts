/**
 * A laid-out chart as SVG text, written here rather than by a browser: boxes, arrows and text
 * only, numbers rounded to a tenth of a pixel, so the same layout always gives the same bytes.
 *
 * How it reads: a state is a rounded box (a final state's border is double), a compound state's
 * box holds its children, the regions of a parallel state are dashed boxes inside it, a dot marks
 * the child a compound state starts in, an arrow is a transition. Boxes are drawn first, then the
 * arrows, then all text, each line with a halo of its background so that an arrow crossing it
 * does not hide it. Each state's box carries `data-state` (its XState id) for tests and readers.
 */
import { BOX, DETAIL_STYLE, INITIAL_MARK_SIZE, LABEL_STYLE, NAME_STYLE, type ChartLayout, type PlacedEdge, type PlacedState } from './chart-layout.js';
import type { TextStyle } from './text-block.js';
import { textWidth } from './text-width.js';

const FONT_FAMILY = "'DejaVu Sans', Helvetica, Arial, sans-serif";
const MARGIN = 16;
const HEADING = { fontSize: 16, lineHeight: 20, bold: true } as const;
const SUBHEADING = { fontSize: 11, lineHeight: 14, bold: false } as const;
const HEADER_HEIGHT = 46;
const CORNER = 8;

const COLOR = {
  page: '#ffffff',
  state: '#ffffff',
  compound: '#f3f6fa',
  region: '#fbfcfe',
  stroke: '#3d4a5c',
  regionStroke: '#7a8699',
  name: '#111827',
  detail: '#374151',
  edge: '#4b5563',
  label: '#1e4e8c',
} as const;

type Background = 'page' | 'state' | 'compound' | 'region';

const STYLE = `
text { font-family: ${FONT_FAMILY}; paint-order: stroke; stroke-width: 3px; stroke-linejoin: round; }
.name { font-size: ${NAME_STYLE.fontSize}px; font-weight: bold; fill: ${COLOR.name}; }
.region-name { font-style: italic; }
.detail { font-size: ${DETAIL_STYLE.fontSize}px; fill: ${COLOR.detail}; }
.label { font-size: ${LABEL_STYLE.fontSize}px; fill: ${COLOR.label}; }
.heading { font-size: ${HEADING.fontSize}px; font-weight: bold; fill: ${COLOR.name}; }
.subheading { font-size: ${SUBHEADING.fontSize}px; fill: ${COLOR.detail}; }
.on-page { stroke: ${COLOR.page}; }
.on-state { stroke: ${COLOR.state}; }
.on-compound { stroke: ${COLOR.compound}; }
.on-region { stroke: ${COLOR.region}; }
.edge { fill: none; stroke: ${COLOR.edge}; stroke-width: 1.2px; }
`;

export function chartSvg(layout: ChartLayout, title: string, subtitle: string): string {
  const headingWidth = Math.max(textWidth(title, HEADING.fontSize, HEADING.bold), textWidth(subtitle, SUBHEADING.fontSize, SUBHEADING.bold));
  const width = num(Math.max(layout.width, headingWidth) + 2 * MARGIN);
  const height = num(layout.height + 2 * MARGIN + HEADER_HEIGHT);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escape(title)}</title>`,
    `<style>${STYLE}</style>`,
    '<defs>',
    `<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${COLOR.edge}"/></marker>`,
    '</defs>',
    `<rect width="${width}" height="${height}" fill="${COLOR.page}"/>`,
    ...lines([title], MARGIN, MARGIN, HEADING, 'heading', 'page'),
    ...lines([subtitle], MARGIN, MARGIN + HEADING.lineHeight + 4, SUBHEADING, 'subheading', 'page'),
    `<g transform="translate(${MARGIN} ${MARGIN + HEADER_HEIGHT})">`,
  ];
  for (const state of layout.states) out.push(stateBox(state));
  for (const edge of layout.edges) out.push(edgePath(edge));
  for (const mark of layout.initialMarks) {
    const r = INITIAL_MARK_SIZE / 2;
    out.push(`<circle cx="${num(mark.x + r)}" cy="${num(mark.y + r)}" r="${num(r - 1)}" fill="${COLOR.name}"/>`);
  }
  for (const state of layout.states) out.push(...stateText(state));
  for (const edge of layout.edges) out.push(...labelText(edge));
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}

function background(placed: PlacedState): Background {
  if (placed.state.region) return 'region';
  return placed.state.children.length > 0 ? 'compound' : 'state';
}

function stateBox(placed: PlacedState): string {
  const { state, x, y, width, height } = placed;
  const fill = COLOR[background(placed)];
  const parts = [`<g data-state="${escape(state.id)}">`];
  if (state.region) parts.push(rect(x, y, width, height, CORNER, fill, COLOR.regionStroke, 'stroke-dasharray="6 4"'));
  else parts.push(rect(x, y, width, height, CORNER, fill, COLOR.stroke, 'stroke-width="1.3"'));
  if (state.kind === 'final') parts.push(rect(x + 3, y + 3, width - 6, height - 6, CORNER - 2, 'none', COLOR.stroke, ''));
  if (placed.activities.lines.length > 0) {
    const rule = y + BOX.padY + placed.name.height + BOX.gap / 2;
    parts.push(`<line x1="${num(x)}" y1="${num(rule)}" x2="${num(x + width)}" y2="${num(rule)}" stroke="${COLOR.regionStroke}" stroke-width="0.6"/>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function stateText(placed: PlacedState): string[] {
  const { state, x, y, width } = placed;
  const on = background(placed);
  // An atomic state's name is centred over its lines; a compound state's heads its box.
  const nameX = state.children.length > 0 ? x + BOX.padX : x + Math.max(BOX.padX, (width - placed.name.width) / 2);
  return [
    ...lines(placed.name.lines, nameX, y + BOX.padY, NAME_STYLE, state.region ? 'name region-name' : 'name', on),
    ...lines(placed.activities.lines, x + BOX.padX, y + BOX.padY + placed.name.height + BOX.gap, DETAIL_STYLE, 'detail', on),
  ];
}

function edgePath(edge: PlacedEdge): string {
  const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`).join(' ');
  return `<path class="edge" d="${d}" marker-end="url(#arrow)"/>`;
}

function labelText(edge: PlacedEdge): string[] {
  const label = edge.label;
  if (label === undefined) return [];
  // ELK routes the edge through its label: the page colour behind the text interrupts the line.
  return [rect(label.x - 2, label.y, label.width + 4, label.height, 2, COLOR.page, 'none', ''), ...lines(label.text.lines, label.x, label.y, LABEL_STYLE, 'label', 'page')];
}

/** One <text> a line; a broken line's leading spaces become an indent (SVG collapses spaces). */
function lines(text: readonly string[], x: number, top: number, style: TextStyle, className: string, on: Background): string[] {
  return text.map((line, i) => {
    const body = line.trimStart();
    const indent = textWidth(line.slice(0, line.length - body.length), style.fontSize, style.bold);
    // The baseline that centres the glyphs in the line's height.
    const baseline = top + i * style.lineHeight + style.lineHeight / 2 + style.fontSize * 0.35;
    return `<text class="${className} on-${on}" x="${num(x + indent)}" y="${num(baseline)}">${escape(body)}</text>`;
  });
}

function rect(x: number, y: number, width: number, height: number, r: number, fill: string, stroke: string, extra: string): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" rx="${r}" fill="${fill}" stroke="${stroke}"${extra === '' ? '' : ` ${extra}`}/>`;
}

/** Tenths of a pixel: enough for a drawing, and no float noise in the text. */
function num(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
