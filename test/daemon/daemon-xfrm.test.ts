/**
 * `ikekm daemon` on the XFRM backend (`daemon.kernel: xfrm`, the default), on this host's kernel,
 * which has XFRM policies but no ESP states (tunnels that carry traffic: test/kernel-vm/daemon-xfrm):
 *
 * - without CAP_NET_ADMIN (as nobody, and as root with the capability dropped) the daemon refuses
 *   to start: exit 1, one line on stderr naming CAP_NET_ADMIN;
 * - in a throw-away network namespace, with only the capabilities packaging/ikekm.service grants
 *   (CapabilityBoundingSet, applied with setpriv), it binds UDP 500 and 4500, removes the policies
 *   a killed ikekm left (and only those), installs the trap of an on-demand connection as a real
 *   policy whose acquire starts the connection, and after SIGTERM nothing of ikekm's is left in
 *   the kernel.
 *
 * Needs root: not root, the test skips loudly, and under CI=true that fails.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatusWithTraps } from '../../src/daemon/daemon.js';
import { run, runChecked, waitUntil, type RunResult } from '../interop/harness/process.js';
import { unitCapabilities } from './support/systemd-unit.js';

const why = process.getuid?.() === 0 ? undefined : 'not root (XFRM needs CAP_NET_ADMIN; dropping it needs root too)';
if (why !== undefined) {
  if (process.env.CI === 'true') throw new Error(`daemon XFRM tests cannot run under CI: ${why}`);
  console.warn(`SKIPPING daemon XFRM tests: ${why}`);
}

const IKEKM = fileURLToPath(new URL('../../bin/ikekm.js', import.meta.url));
/** linux/capability.h */
const CAP_NUMBERS = { CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12 } as const;
const PSK = 'ikekm-daemon-xfrm-test-psk';

function yaml(dir: string, connections: string): string {
  return [
    'daemon:',
    '  listen: [192.0.2.1]',
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(join(dir, 'run', 'ikekm.sock'))}`,
    '  kernel: xfrm',
    'ikePolicies:',
    '  p1: { version: 2, auth: psk, proposals: [aes128gcm16-prfsha256-x25519], lifetime: 24h }',
    'dataPolicies:',
    '  p2: { protocol: esp, mode: tunnel, proposals: [aes128gcm16], lifetime: 60m }',
    connections,
    '',
  ].join('\n');
}

const ON_DEMAND = `connections:
  lab:
    ikePolicy: p1
    dataPolicy: p2
    local:  { address: 192.0.2.1, id: 192.0.2.1, psk: ${JSON.stringify(PSK)} }
    remote: { address: 192.0.2.2, id: 192.0.2.2 }
    traffic: { local: [198.51.100.1/32], remote: [203.0.113.1/32] }
    start: on-demand`;

describe.skipIf(why !== undefined)('ikekm daemon on XFRM, on this host', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-daemon-xfrm-'));
    // Readable by nobody: the unprivileged daemon must get as far as the kernel.
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('without CAP_NET_ADMIN', () => {
    const attempt = async (wrapper: readonly string[]): Promise<RunResult> => {
      const config = join(dir, 'no-connections.yaml');
      writeFileSync(config, yaml(dir, 'connections: {}'), { mode: 0o644 });
      return run('setpriv', [...wrapper, process.execPath, IKEKM, 'daemon', '--config', config], { timeoutMs: 30_000 });
    };
    const expectRefused = (result: RunResult): void => {
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ikekm daemon: could not start: daemon\.kernel: xfrm needs CAP_NET_ADMIN, which this process lacks: .*daemon\.kernel: memory/);
      expect(result.stdout).not.toContain('ikekm daemon started');
    };

    it('as an unprivileged user: exit 1, one line on stderr naming CAP_NET_ADMIN', async () => {
      expectRefused(await attempt(['--reuid=65534', '--regid=65534', '--clear-groups']));
    }, 40_000);

    it('as root with CAP_NET_ADMIN dropped: the same', async () => {
      expectRefused(await attempt(['--inh-caps=-net_admin', '--bounding-set=-net_admin']));
    }, 40_000);
  });

  describe('in a network namespace', () => {
    const ns = `ikekm-dxfrm-${process.pid}`;
    const ip = (...args: string[]) => runChecked('ip', ['-n', ns, ...args]);
    const policies = async (): Promise<string> => (await ip('xfrm', 'policy')).stdout;
    const logLines: Record<string, unknown>[] = [];
    let exited: Promise<number | null>;
    let daemon: ReturnType<typeof spawn> | undefined;
    let leftBefore = '';
    const socket = (): string => join(dir, 'run', 'ikekm.sock');
    const status = async (): Promise<DaemonStatusWithTraps> => {
      const out = await runChecked('ip', ['netns', 'exec', ns, process.execPath, IKEKM, 'status', '--json', '--socket', socket()], { timeoutMs: 30_000 });
      return JSON.parse(out.stdout) as DaemonStatusWithTraps;
    };

    beforeAll(async () => {
      await runChecked('ip', ['netns', 'add', ns]);
      await ip('link', 'set', 'lo', 'up');
      await ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
      await ip('link', 'set', 'v0', 'up');
      await ip('link', 'set', 'v1', 'up');
      await ip('addr', 'add', '192.0.2.1/24', 'dev', 'v0');
      await ip('addr', 'add', '198.51.100.1/32', 'dev', 'lo');
      await ip('route', 'add', '203.0.113.0/24', 'via', '192.0.2.2');
      // What a killed ikekm left (its reqid range), and a policy of another key manager (reqid 1).
      await ip('xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.99/32', 'dir', 'out', 'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'reqid', String(0x4b4d0007), 'mode', 'tunnel');
      await ip('xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.77/32', 'dir', 'out', 'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.3', 'proto', 'esp', 'reqid', '1', 'mode', 'tunnel');
      leftBefore = await policies();
      const config = join(dir, 'on-demand.yaml');
      writeFileSync(config, yaml(dir, ON_DEMAND), { mode: 0o600 });
      // Root with the unit's capabilities and no others, as systemd starts it (NoNewPrivileges too).
      const caps = unitCapabilities().map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
      const setpriv = ['setpriv', `--bounding-set=-all,${caps.join(',')}`, '--inh-caps=-all', '--no-new-privs'];
      const child = spawn('ip', ['netns', 'exec', ns, ...setpriv, process.execPath, IKEKM, 'daemon', '--config', config, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'inherit'] });
      daemon = child;
      exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      createInterface({ input: child.stdout! }).on('line', (line) => logLines.push(JSON.parse(line) as Record<string, unknown>));
      await waitUntil('the daemon to start', () => (logLines.some((l) => l.msg === 'ikekm daemon started') ? true : undefined), { timeoutMs: 30_000 });
    }, 60_000);

    afterAll(async () => {
      if (daemon !== undefined && daemon.exitCode === null) daemon.kill('SIGKILL');
      await run('ip', ['netns', 'del', ns]);
    });

    it("runs with exactly the unit's capabilities, and binds UDP 500 and 4500 with them", () => {
      // ip netns exec and setpriv exec the daemon in place: the child's pid is the daemon's.
      const status = readFileSync(`/proc/${daemon!.pid}/status`, 'utf8');
      const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? ''}`);
      expect(effective).toBe((1n << BigInt(CAP_NUMBERS.CAP_NET_ADMIN)) | (1n << BigInt(CAP_NUMBERS.CAP_NET_BIND_SERVICE)));
      expect(logLines.find((l) => l.msg === 'ikekm daemon started')?.bound).toEqual([
        { role: 'ike', address: '192.0.2.1', port: 500 },
        { role: 'natt', address: '192.0.2.1', port: 4500 },
      ]);
      // The bypass policies (IP_XFRM_POLICY) on both, ESP-in-UDP (UDP_ENCAP) on 4500.
      expect(logLines.filter((l) => l.msg === 'IKE socket bypasses IPsec').map((l) => [l.port, l.espInUdp])).toEqual([
        [500, false],
        [4500, true],
      ]);
    });

    it('removes the policies a killed ikekm left, and only those', async () => {
      expect(leftBefore).toContain('dst 203.0.113.99/32');
      expect(logLines.find((l) => l.msg?.toString().startsWith('XFRM kernel opened'))).toMatchObject({ kernel: 'xfrm', removedSas: 0, removedPolicies: 1 });
      expect(logLines.find((l) => l.msg === 'ikekm daemon started')).toMatchObject({ kernel: 'xfrm' });
      const now = await policies();
      expect(now).not.toContain('203.0.113.99');
      expect(now).toContain('src 198.51.100.0/24 dst 203.0.113.77/32');
    });

    it("an on-demand connection's trap is a kernel policy; a packet into it starts the connection", async () => {
      await waitUntil('the trap', async () => ((await status()).traps.length === 1 ? true : undefined), { timeoutMs: 10_000 });
      expect(await policies()).toMatch(/src 198\.51\.100\.1\/32 dst 203\.0\.113\.1\/32 \n\tdir out priority \d+ ptype main \n\ttmpl src 192\.0\.2\.1 dst 192\.0\.2\.2\n\t\tproto esp reqid 1263337473 mode tunnel/);
      // The acquire: nobody answers at 192.0.2.2, so the attempt stays pending.
      await run('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '-I', '198.51.100.1', '203.0.113.1']);
      const pending = await waitUntil('the acquire', async () => {
        const s = await status();
        return s.traps[0]?.pending === true ? s : undefined;
      }, { timeoutMs: 10_000 });
      expect(pending.traps[0]).toMatchObject({ connection: 'lab', reqid: 0x4b4d0001, acquires: 1 });
      expect(pending.ikeSas).toMatchObject([{ connection: 'lab', state: 'CONNECTING', role: 'initiator' }]);
      expect(logLines.find((l) => l.msg === 'acquire: initiating connection (start: on-demand)')).toMatchObject({
        packet: { source: '198.51.100.1', destination: '203.0.113.1', ipProtocol: 1 },
      });
    }, 30_000);

    it('SIGTERM: exit 0, and nothing of ikekm is left in the kernel', async () => {
      daemon!.kill('SIGTERM');
      expect(await exited).toBe(0);
      const after = await policies();
      expect(after).not.toContain('reqid 1263337473');
      expect(after).toContain('dst 203.0.113.77/32');
      expect((await ip('xfrm', 'state')).stdout).toBe('');
    }, 30_000);
  });
});
