/**
 * The figures of `npm run bench` (handshakes.bench.ts): one row per responder and size with the
 * medians of its rounds, the ikekm/charon ratio per size, as a text table, as JSON, and as an SVG
 * chart (SAs/s and RSS per SA against the number of SAs, one line per responder).
 */
import type { ResponderName } from './handshake-responders.js';

/** One load run against one responder. */
export interface HandshakeRun {
  readonly responder: ResponderName;
  readonly sas: number;
  readonly round: number;
  readonly established: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, { readonly count: number; readonly example: string }>>;
  readonly perSecond: number;
  readonly setupP50Ms: number;
  readonly setupP99Ms: number;
  readonly responderCpuMsPerSa: number;
  readonly responderRssBytesPerSa: number;
  readonly generatorCpuMsPerSa: number;
  /** The generator's CPU time over the run's wall time: near 100 % it, not the responder, was the limit. */
  readonly generatorBusyPercent: number;
}

export interface HandshakeRow {
  readonly responder: ResponderName;
  readonly sas: number;
  readonly rounds: number;
  readonly perSecond: number;
  readonly responderCpuMsPerSa: number;
  readonly responderRssBytesPerSa: number;
  readonly setupP50Ms: number;
  readonly setupP99Ms: number;
  readonly generatorCpuMsPerSa: number;
  readonly generatorBusyPercent: number;
  readonly failed: number;
}

export interface HandshakeReport {
  readonly machine: string;
  readonly date: string;
  readonly window: number;
  readonly proposals: { readonly ike: string; readonly esp: string };
  /** X25519 derivations per second of `openssl speed` on one core; a handshake costs the responder two X25519 operations. */
  readonly x25519OpsPerSecond: number | undefined;
  readonly rows: readonly HandshakeRow[];
  readonly runs: readonly HandshakeRun[];
  readonly generatorShortcuts: readonly string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(runs: readonly HandshakeRun[]): HandshakeRow[] {
  const groups = new Map<string, HandshakeRun[]>();
  for (const run of runs) {
    const key = `${run.responder}/${run.sas}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()]
    .map((g) => ({
      responder: g[0]!.responder,
      sas: g[0]!.sas,
      rounds: g.length,
      perSecond: median(g.map((r) => r.perSecond)),
      responderCpuMsPerSa: median(g.map((r) => r.responderCpuMsPerSa)),
      responderRssBytesPerSa: median(g.map((r) => r.responderRssBytesPerSa)),
      setupP50Ms: median(g.map((r) => r.setupP50Ms)),
      setupP99Ms: median(g.map((r) => r.setupP99Ms)),
      generatorCpuMsPerSa: median(g.map((r) => r.generatorCpuMsPerSa)),
      generatorBusyPercent: median(g.map((r) => r.generatorBusyPercent)),
      failed: g.reduce((n, r) => n + r.failed, 0),
    }))
    .sort((x, y) => x.sas - y.sas || x.responder.localeCompare(y.responder));
}

export function formatTable(report: HandshakeReport): string[] {
  const header = ['responder', 'SAs', 'rounds', 'SAs/s', 'CPU ms/SA', 'RSS KB/SA', 'setup p50 ms', 'setup p99 ms', 'failed', 'generator CPU ms/SA', 'generator busy'];
  const rows = report.rows.map((r) => [
    r.responder,
    String(r.sas),
    String(r.rounds),
    r.perSecond.toFixed(0),
    r.responderCpuMsPerSa.toFixed(2),
    (r.responderRssBytesPerSa / 1000).toFixed(1),
    r.setupP50Ms.toFixed(1),
    r.setupP99Ms.toFixed(1),
    String(r.failed),
    r.generatorCpuMsPerSa.toFixed(2),
    `${r.generatorBusyPercent.toFixed(0)} %`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
  for (const sas of [...new Set(report.rows.map((r) => r.sas))]) {
    const ikekm = report.rows.find((r) => r.sas === sas && r.responder === 'ikekm');
    const charon = report.rows.find((r) => r.sas === sas && r.responder === 'charon');
    if (ikekm === undefined || charon === undefined || charon.perSecond === 0 || charon.responderRssBytesPerSa <= 0) continue;
    out.push(
      `${sas} SAs: ikekm/charon rate ${(ikekm.perSecond / charon.perSecond).toFixed(2)}×, CPU per SA ${(ikekm.responderCpuMsPerSa / charon.responderCpuMsPerSa).toFixed(2)}×, RSS per SA ${(ikekm.responderRssBytesPerSa / charon.responderRssBytesPerSa).toFixed(2)}×`,
    );
  }
  if (report.x25519OpsPerSecond !== undefined) {
    out.push(`crypto floor: openssl speed ecdhx25519 ${report.x25519OpsPerSecond.toFixed(0)} derivations/s on one core, so at most ~${(report.x25519OpsPerSecond / 2).toFixed(0)} handshakes/s (two X25519 operations each)`);
  }
  return out;
}

const COLORS: Readonly<Record<ResponderName, string>> = { ikekm: '#1f77b4', charon: '#d62728' };

/** Two panels side by side: SAs/s and RSS KB per SA against the number of SAs (log scale when it spans a decade). */
export function renderSvg(report: HandshakeReport): string {
  const panels = [
    { title: 'handshakes per second', value: (r: HandshakeRow) => r.perSecond },
    { title: 'RSS per SA (KB)', value: (r: HandshakeRow) => r.responderRssBytesPerSa / 1000 },
  ];
  const width = 360;
  const height = 260;
  const margin = { left: 56, right: 16, top: 32, bottom: 44 };
  const sizes = [...new Set(report.rows.map((r) => r.sas))].sort((a, b) => a - b);
  const logX = sizes.length > 1 && sizes[sizes.length - 1]! / sizes[0]! >= 10;
  const xOf = (sas: number): number => {
    if (sizes.length === 1) return margin.left + (width - margin.left - margin.right) / 2;
    const [lo, hi] = [sizes[0]!, sizes[sizes.length - 1]!];
    const t = logX ? Math.log(sas / lo) / Math.log(hi / lo) : (sas - lo) / (hi - lo);
    return margin.left + t * (width - margin.left - margin.right);
  };
  const parts: string[] = [];
  panels.forEach((panel, p) => {
    const ox = p * width;
    const max = Math.max(1, ...report.rows.map(panel.value)) * 1.1;
    const yOf = (v: number): number => margin.top + (1 - v / max) * (height - margin.top - margin.bottom);
    parts.push(`<g transform="translate(${ox},0)">`);
    parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${panel.title}</text>`);
    parts.push(`<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="#333"/>`);
    parts.push(`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="#333"/>`);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      parts.push(`<text x="${margin.left - 6}" y="${yOf(v) + 4}" text-anchor="end" font-size="10">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`);
    }
    for (const sas of sizes) parts.push(`<text x="${xOf(sas)}" y="${height - margin.bottom + 14}" text-anchor="middle" font-size="10">${sas}</text>`);
    parts.push(`<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11">SAs set up${logX ? ' (log scale)' : ''}</text>`);
    for (const responder of ['ikekm', 'charon'] as const) {
      const rows = report.rows.filter((r) => r.responder === responder).sort((a, b) => a.sas - b.sas);
      if (rows.length === 0) continue;
      const points = rows.map((r) => `${xOf(r.sas).toFixed(1)},${yOf(panel.value(r)).toFixed(1)}`);
      parts.push(`<polyline fill="none" stroke="${COLORS[responder]}" stroke-width="2" points="${points.join(' ')}"/>`);
      for (const pt of points) {
        const [x, y] = pt.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${COLORS[responder]}"/>`);
      }
    }
    parts.push('</g>');
  });
  const legend = (['ikekm', 'charon'] as const).map(
    (r, i) => `<g transform="translate(${margin.left + i * 90},${height + 6})"><rect width="12" height="12" fill="${COLORS[r]}"/><text x="16" y="11" font-size="11">${r}</text></g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * panels.length}" height="${height + 26}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
