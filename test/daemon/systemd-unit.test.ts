/**
 * packaging/ikekm.service: the keys the daemon relies on, and `systemd-analyze verify` on a copy
 * whose /usr/bin/ikekm points at this checkout's bin/ikekm.js (skipped loudly without systemd).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'packaging/ikekm.service'), 'utf8');

/** section → key → values (a key may repeat), comments and blank lines dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('packaging/ikekm.service', () => {
  const service = parseUnit(UNIT).get('Service');
  const one = (key: string): string | undefined => service?.get(key)?.[0];

  it('runs the daemon in the foreground, reloads with SIGHUP, stops with SIGTERM in bounded time', () => {
    expect(one('Type')).toBe('simple');
    expect(one('ExecStart')).toBe('/usr/bin/ikekm daemon --config /etc/ikekm/ikekm.yaml');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('KillSignal')).toBe('SIGTERM');
    // Longer than the daemon's 3 s grace for Deletes, so systemd never SIGKILLs a clean stop.
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(3);
  });

  it('is hardened: read-only system except the 0700 runtime directory holding the control socket; network capabilities only', () => {
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/run/ikekm');
    expect(one('RuntimeDirectory')).toBe('ikekm');
    expect(one('RuntimeDirectoryMode')).toBe('0700');
    expect(one('CapabilityBoundingSet')?.split(/\s+/).sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE']);
  });

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-unit-'));
    try {
      const unit = join(dir, 'ikekm.service');
      writeFileSync(unit, UNIT.replaceAll('/usr/bin/ikekm', join(ROOT, 'bin/ikekm.js')));
      const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!hasSystemdAnalyze) console.warn('*** systemd-analyze not installed: only the unit keys are checked');
});
