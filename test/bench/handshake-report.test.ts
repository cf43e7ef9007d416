import { describe, expect, it } from 'vitest';
import { formatTable, median, renderSvg, summarize, type HandshakeReport, type HandshakeRun } from '../../bench/handshake-report.js';

const run = (responder: 'ikekm' | 'charon', sas: number, round: number, perSecond: number, rss: number): HandshakeRun => ({
  responder,
  sas,
  round,
  established: sas,
  failed: 0,
  failures: {},
  perSecond,
  setupP50Ms: 10,
  setupP99Ms: 20,
  responderCpuMsPerSa: 1000 / perSecond,
  responderRssBytesPerSa: rss,
  generatorCpuMsPerSa: 0.3,
  generatorBusyPercent: 30,
});

describe('the handshake bench report', () => {
  it('takes the median of the rounds per responder and size', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const rows = summarize([run('ikekm', 100, 1, 300, 9000), run('ikekm', 100, 2, 500, 7000), run('ikekm', 100, 3, 400, 8000), run('charon', 100, 1, 1000, 14000)]);
    expect(rows.map((r) => [r.responder, r.sas, r.rounds, r.perSecond, r.responderRssBytesPerSa])).toEqual([
      ['charon', 100, 1, 1000, 14000],
      ['ikekm', 100, 3, 400, 8000],
    ]);
  });

  it('prints the ratio per size and the crypto floor, and draws a line per responder and panel', () => {
    const runs = [run('ikekm', 1000, 1, 500, 7000), run('charon', 1000, 1, 1000, 14000), run('ikekm', 10000, 1, 250, 7000), run('charon', 10000, 1, 500, 14000)];
    const report: HandshakeReport = { machine: 'test', date: 'now', window: 50, proposals: { ike: 'x', esp: 'y' }, x25519OpsPerSecond: 20000, rows: summarize(runs), runs, generatorShortcuts: [] };
    const table = formatTable(report);
    expect(table).toContain('1000 SAs: ikekm/charon rate 0.50×, CPU per SA 2.00×, RSS per SA 0.50×');
    expect(table).toContain('10000 SAs: ikekm/charon rate 0.50×, CPU per SA 2.00×, RSS per SA 0.50×');
    expect(table.at(-1)).toBe('crypto floor: openssl speed ecdhx25519 20000 derivations/s on one core, so at most ~10000 handshakes/s (two X25519 operations each)');
    const svg = renderSvg(report);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain('(log scale)');
  });
});
