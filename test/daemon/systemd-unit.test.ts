/**
 * packaging/ikekm.service: the keys the daemon relies on (the capabilities and address families
 * the XFRM backend needs, hardening that leaves netlink alone), and `systemd-analyze verify` on a
 * copy whose /usr/bin/ikekm points at this checkout's bin/ikekm.js (skipped loudly without
 * systemd).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUnit, ROOT, UNIT, unitCapabilities } from './support/systemd-unit.js';

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('packaging/ikekm.service', () => {
  const service = parseUnit(UNIT).get('Service');
  const one = (key: string): string | undefined => service?.get(key)?.[0];

  it('runs the daemon in the foreground, reloads with SIGHUP, stops with SIGTERM in bounded time', () => {
    expect(one('Type')).toBe('simple');
    expect(one('ExecStart')).toBe('/usr/bin/ikekm daemon --config /etc/ikekm/ikekm.yaml');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('KillSignal')).toBe('SIGTERM');
    // Longer than the daemon's 3 s grace for Deletes, and than the 45 s a stop of 100 000 SAs with
    // their peers gone took (bench/daemon-scale.bench.ts), so systemd does not SIGKILL a stop that
    // is still sending Deletes and clearing the kernel.
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(60);
  });

  it('is hardened: read-only system except the 0700 runtime directory holding the control socket; network capabilities only', () => {
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/run/ikekm');
    expect(one('RuntimeDirectory')).toBe('ikekm');
    expect(one('RuntimeDirectoryMode')).toBe('0700');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('PrivateDevices')).toBe('yes');
    expect(one('ProtectKernelModules')).toBe('yes');
    expect(one('ProtectKernelTunables')).toBe('yes');
  });

  it('grants what the XFRM backend needs: CAP_NET_ADMIN (netlink XFRM, the IKE sockets\' bypass policies) and CAP_NET_BIND_SERVICE (UDP 500/4500), in the bounding and ambient sets', () => {
    // test/daemon/daemon-xfrm.test.ts runs the daemon on XFRM with exactly unitCapabilities().
    expect(unitCapabilities()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE']);
    expect(one('AmbientCapabilities')?.split(/\s+/).sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE']);
  });

  it('lets the daemon open netlink (XFRM), IPv4 and IPv6 (IKE) and unix (control) sockets', () => {
    expect(one('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  });

  it.each([
    ['PrivateNetwork', 'the XFRM state must be the host network namespace\'s'],
    ['PrivateUsers', 'the kernel checks CAP_NET_ADMIN in the user namespace owning the network namespace'],
    ['MemoryDenyWriteExecute', "Node's JIT writes code"],
    ['SystemCallFilter', 'untested with Node and koffi under systemd'],
  ])('does not set %s (%s)', (key) => {
    expect(service?.has(key)).toBe(false);
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
