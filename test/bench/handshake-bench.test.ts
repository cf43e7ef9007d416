/**
 * `npm run bench` at a small N, so the harness keeps working: both responders in their labs, the
 * load generator against each, the table, the JSON and the SVG. No figure is judged here (the
 * machine running the suite is busy with other tests); what must hold is that every handshake was
 * established against both and that the outputs carry what they claim.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatTable, type HandshakeReport } from '../../bench/handshake-report.js';
import { runHandshakeBench } from '../../bench/handshakes.bench.js';
import { describeInterop } from '../interop/harness/requirements.js';

const out = mkdtempSync(join(tmpdir(), 'ikekm-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describeInterop('npm run bench (small N): ikekm and charon under the same load', () => {
  it('sets up every SA against both responders and writes the table, JSON and SVG', async () => {
    const report = await runHandshakeBench({ sizes: [40], rounds: 1, window: 8, responders: ['ikekm', 'charon'], outDir: out, progress: () => {} });
    expect(report.rows.map((r) => [r.responder, r.sas, r.failed])).toEqual([
      ['charon', 40, 0],
      ['ikekm', 40, 0],
    ]);
    for (const run of report.runs) {
      expect(run.established).toBe(40);
      expect(run.perSecond).toBeGreaterThan(0);
      expect(run.responderCpuMsPerSa).toBeGreaterThan(0);
      expect(run.generatorCpuMsPerSa).toBeGreaterThan(0);
    }
    const saved = JSON.parse(readFileSync(join(out, 'handshakes.json'), 'utf8')) as HandshakeReport;
    expect(saved.rows).toEqual(report.rows);
    expect(saved.generatorShortcuts.length).toBeGreaterThan(0);
    const svg = readFileSync(join(out, 'handshakes.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline /g)).toHaveLength(4); // two panels, two responders each
    const table = formatTable(report);
    expect(table[0]).toMatch(/^\| responder \| SAs \|/);
    expect(table.some((l) => /^40 SAs: ikekm\/charon rate \d+\.\d\d×/.test(l))).toBe(true);
  }, 180_000);
});
