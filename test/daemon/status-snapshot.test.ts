/**
 * The status JSON of a Child SA's last use (`lastInSeconds`, `lastOutSeconds`) and its column in
 * the table, from an engine whose memory kernel was told when traffic used the policies.
 */
import { describe, expect, it } from 'vitest';
import { renderStatusTable } from '../../src/control/status-table.js';
import { statusSnapshot } from '../../src/daemon/status-snapshot.js';
import { Lab } from '../engine/lab.js';

async function establishedLab(): Promise<Lab> {
  const lab = new Lab();
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b))).toBe(true);
  return lab;
}

const NOW = 1_765_000_100_000;

describe('status JSON: last use', () => {
  it('null in and out before any traffic; the table shows -/-', async () => {
    const lab = await establishedLab();
    const status = statusSnapshot(await lab.a.engine.statusWithUsage(), { nowMs: NOW });
    expect(status.ikeSas[0]?.childSas[0]).toMatchObject({ lastInSeconds: null, lastOutSeconds: null });
    const table = renderStatusTable(status);
    expect(table).toContain('last in/out');
    expect(table.split('\n').find((l) => l.includes('INSTALLED'))).toMatch(/ -\/-$/);
  });

  it('whole seconds since the last use in (in or fwd policy) and out; the table shows them', async () => {
    const lab = await establishedLab();
    const policy = (direction: string) => lab.a.kernel.policies().find((p) => p.direction === direction)!;
    lab.a.kernel.markPolicyUsed(policy('in'), NOW - 3_000);
    lab.a.kernel.markPolicyUsed(policy('fwd'), NOW - 65_000);
    lab.a.kernel.markPolicyUsed(policy('out'), NOW - 65_000);
    const status = statusSnapshot(await lab.a.engine.statusWithUsage(), { nowMs: NOW });
    expect(status.ikeSas[0]?.childSas[0]).toMatchObject({ lastInSeconds: 3, lastOutSeconds: 65 });
    expect(renderStatusTable(status).split('\n').find((l) => l.includes('INSTALLED'))).toMatch(/ 3s\/1m05s$/);
  });

  it('never negative when the kernel is a second ahead of the caller', async () => {
    const lab = await establishedLab();
    lab.a.kernel.markPolicyUsed(lab.a.kernel.policies().find((p) => p.direction === 'out')!, NOW + 1_000);
    const status = statusSnapshot(await lab.a.engine.statusWithUsage(), { nowMs: NOW });
    expect(status.ikeSas[0]?.childSas[0]).toMatchObject({ lastInSeconds: null, lastOutSeconds: 0 });
  });
});
