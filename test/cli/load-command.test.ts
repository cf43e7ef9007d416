/**
 * `ikekm load` as a user runs it: a real process against an ikekm daemon (in this process), with
 * the daemon's own configuration format for the connection to load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { LoadResult } from '../../src/load/load-run.js';
import type { ProcessUsageDelta } from '../../src/load/process-usage.js';
import { startDaemon, type RunningDaemon } from '../daemon/support/daemon-pair.js';
import { loadedConfig, testPorts } from '../daemon/support/lab-connections.js';
import { writeDaemonYaml } from '../daemon/support/yaml-config.js';
import { runIkekm } from '../support/ikekm-process.js';

let responder: RunningDaemon | undefined;
let dir: string | undefined;
afterEach(async () => {
  await responder?.daemon.stop({ graceMs: 200 });
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  responder = dir = undefined;
});

const ikekm = runIkekm;

async function setUp(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-load-'));
  const ports = testPorts();
  responder = await startDaemon(loadedConfig('a', ports, [{ name: 'lab' }]), join(dir, 'a.sock'), { level: 'info' });
  const file = join(dir, 'b.yaml');
  writeDaemonYaml(file, 'b', { ports, control: join(dir, 'b.sock'), connections: [{ name: 'lab' }] });
  return file;
}

it('sets up N IKE SAs with Child SAs at the responder and reports them, with the watched process', async () => {
  const file = await setUp();
  // A window of 2: the responder's per-address COOKIE threshold (3 half-open) stays out of it.
  const run = await ikekm(['load', '--config', file, '--connection', 'lab', '--count', '12', '--window', '2', '--watch', String(process.pid), '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as LoadResult & { watched: ProcessUsageDelta[] };
  expect(result).toMatchObject({ count: 12, window: 2, established: 12, failed: 0, failures: {}, childSa: true });
  expect(result.setupMs.p50).toBeGreaterThan(0);
  expect(result.setupMs.p99).toBeGreaterThanOrEqual(result.setupMs.p50);
  expect(result.watched).toHaveLength(1);
  expect(result.watched[0]!.pid).toBe(process.pid);
  expect(result.watched[0]!.rssBytes).toBeGreaterThan(0);
  expect(result.shortcuts.join(' ')).toContain('one Diffie-Hellman key pair');
  const status = await responder!.daemon.status();
  const up = status.ikeSas.filter((s) => s.connection === 'lab' && s.state === 'ESTABLISHED');
  expect(up).toHaveLength(12);
  expect(up.every((s) => s.role === 'responder' && s.childSas.length === 1 && s.childSas[0]!.state === 'INSTALLED')).toBe(true);
});

it('prints the figures as text, and exits 1 naming the reason when handshakes fail', async () => {
  const file = await setUp();
  responder!.daemon.stop({ graceMs: 0 }).catch(() => {});
  await new Promise((r) => setTimeout(r, 200));
  const run = await ikekm(['load', '--config', file, '--connection', 'lab', '--count', '2', '--window', '2', '--timeout', '1']);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/0 of 2 IKE SAs established .*2 failed/);
  expect(run.stdout).toMatch(/failed 2× no answer: nothing established 1000 ms after the first IKE_SA_INIT/);
  expect(run.stdout).toContain('shortcuts of the generator:');
});

it('refuses what it cannot run with exit 2: no connection named, an unknown connection', async () => {
  const missing = await ikekm(['load', '--count', '5']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('--config and --connection are required');
  const file = await setUp();
  const unknown = await ikekm(['load', '--config', file, '--connection', 'nope']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain(`${file} has no connection nope`);
  const zero = await ikekm(['load', '--config', file, '--connection', 'lab', '--window', '0']);
  expect(zero.code).toBe(2);
  expect(zero.stderr).toContain('--window 0 is not a positive integer');
});
