/**
 * The kernel VM runner itself: what comes back from a run, and that a panic or a hang ends in a
 * clear KernelVmError instead of a stuck test. Three short boots, plus checks that need no VM.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './config.js';
import { describeKernelVm, kernelVmGate, kernelVmReady } from './gate.js';
import { commandScript } from './guest-scripts.js';
import { KernelVmError, guestEnvironment, runInVm } from './run.js';
import { parseXfrmPolicies, parseXfrmStates } from './xfrm-text.js';

describe('kernel VM runner, without a VM', () => {
  it('command.sh passes arguments and environment through the shell unchanged', () => {
    const argv = ['printf', '[%s]\\n', "it's", '$HOME', 'a  b', '', '*', 'ü'];
    const script = commandScript(argv, { ODD: `x'y"z $HOME`, 'NOT-A-NAME': 'dropped' }, tmpdir());
    const result = spawnSync('/bin/sh', ['-c', `${script.replace(/^exec /m, 'printf "%s\\n" "$ODD" "$(pwd)"; exec ')}`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`x'y"z $HOME\n${tmpdir()}\n[it's]\n[$HOME]\n[a  b]\n[]\n[*]\n[ü]\n`);
  });

  it('the guest environment is a small base that the caller extends or trims', () => {
    const env = guestEnvironment({ EXTRA: '1', TERM: undefined });
    expect(env).toMatchObject({ HOME: '/root', EXTRA: '1', IKEKM_IN_KERNEL_VM: '1' });
    expect(env).not.toHaveProperty('TERM');
    expect(env.PATH?.split(':')).toContain('/usr/sbin');
  });

  it('skips when unavailable, but fails under CI=true', () => {
    expect(kernelVmGate({ available: true, missing: [] }, { CI: 'true' })).toBe('run');
    expect(kernelVmGate({ available: false, missing: ['root'] }, {})).toBe('skip');
    expect(kernelVmGate({ available: false, missing: ['root'] }, { CI: 'true' })).toBe('fail');
  });

  it('an empty cache is a not-built error, before anything starts', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ikekm-vm-empty-'));
    try {
      await expect(runInVm(['true'], { cacheDir: empty })).rejects.toMatchObject({ kind: 'not-built' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('parses ip xfrm state', () => {
    const text = [
      'src 192.0.2.2 dst 192.0.2.1',
      '\tproto esp spi 0x0000c0de(49374) reqid 1(0x00000001) mode tunnel',
      '\taead rfc4106(gcm(aes)) 0x00112233445566778899aabbccddeeff00112233 (160 bits) 128',
      '\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0',
      '\tlifetime current:',
      '\t  252(bytes), 3(packets)',
      'src 192.0.2.1 dst 192.0.2.2',
      '\tproto esp spi 0xcbe75a19 reqid 1 mode transport',
      '\tenc cbc(aes) 0x00112233445566778899aabbccddeeff',
      '',
    ].join('\n');
    expect(parseXfrmStates(text)).toEqual([
      { src: '192.0.2.2', dst: '192.0.2.1', proto: 'esp', spi: '0000c0de', mode: 'tunnel', algorithm: 'rfc4106(gcm(aes))', key: '00112233445566778899aabbccddeeff00112233', reqid: 1, encap: true, bytes: 252, packets: 3 },
      { src: '192.0.2.1', dst: '192.0.2.2', proto: 'esp', spi: 'cbe75a19', mode: 'transport', algorithm: 'cbc(aes)', key: '00112233445566778899aabbccddeeff', reqid: 1, encap: false, bytes: undefined, packets: undefined },
    ]);
  });
});

describe('ip xfrm policy text', () => {
  it('lists the policies sorted by direction and selector, and counts the per-socket ones', () => {
    const text = [
      'src 198.51.100.1/32 dst 203.0.113.1/32 ',
      '\tdir out priority 99744 ptype main ',
      '\ttmpl src 192.0.2.1 dst 192.0.2.2',
      '\t\tproto esp reqid 1263337473 mode tunnel',
      'src 203.0.113.1/32 dst 198.51.100.1/32 ',
      '\tdir in priority 99744 ptype main ',
      '\ttmpl src 192.0.2.2 dst 192.0.2.1',
      '\t\tproto esp reqid 1263337473 mode tunnel',
      'src 0.0.0.0/0 dst 0.0.0.0/0 ',
      '\tsocket out priority 0 ptype main ',
      'src 0.0.0.0/0 dst 0.0.0.0/0 ',
      '\tsocket in priority 0 ptype main ',
      '',
    ].join('\n');
    expect(parseXfrmPolicies(text)).toEqual({
      policies: [
        { dir: 'in', selector: '203.0.113.1/32 > 198.51.100.1/32', reqid: 1263337473 },
        { dir: 'out', selector: '198.51.100.1/32 > 203.0.113.1/32', reqid: 1263337473 },
      ],
      socketPolicies: 2,
    });
  });
});

const vm = await kernelVmReady();

describeKernelVm('kernel VM runner, in the VM', vm, () => {
  it('returns the status and output; runs as root in the repository with the given environment; shares are read-write', async () => {
    const share = mkdtempSync(join(tmpdir(), 'ikekm-vm-share-'));
    try {
      let streamed = '';
      const result = await runInVm(['sh', '-c', 'echo "$GREETING from $(pwd) as $(id -u)"; echo oops >&2; echo made > "$SHARE/out.txt"; exit 7'], {
        env: { GREETING: 'hello', SHARE: share },
        shares: [share],
        timeoutMs: 120_000,
        onStdout: (text) => (streamed += text),
      });
      expect(result.status).toBe(7);
      expect(result.stdout).toBe(`hello from ${REPO_ROOT} as 0\n`);
      expect(streamed).toBe(result.stdout);
      expect(result.stderr).toBe('oops\n');
      expect(readFileSync(join(share, 'out.txt'), 'utf8')).toBe('made\n');
      expect(result.timings.bootMs).toBeGreaterThan(0);
      expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.bootMs);
    } finally {
      rmSync(share, { recursive: true, force: true });
    }
  }, 150_000);

  it('a guest kernel panic is a KernelVmError with the console tail', async () => {
    const error = await runInVm(['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 60'], { timeoutMs: 120_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelVmError);
    expect(error).toMatchObject({ kind: 'guest-panic' });
    expect((error as KernelVmError).consoleTail).toMatch(/sysrq triggered crash/);
  }, 150_000);

  it('the timeout kills QEMU and says how far the run got', async () => {
    const started = Date.now();
    const error = await runInVm(['sleep', '600'], { timeoutMs: 12_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelVmError);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect((error as KernelVmError).message).toMatch(/timed out after 12 s/);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
