/**
 * Guest driver of kernel-vm.test.ts (runs inside the VM): what the ESP tests will need.
 *
 * 1. root in the repository, under the VM's kernel;
 * 2. an ESP state with AES-GCM (rfc4106) in the kernel, and the modules that autoloaded for it;
 * 3. two network namespaces joined by veth (the interop lab) ping each other;
 * 4. two strongSwan charons, one per namespace, with kernel-netlink (the kernel's ESP, not
 *    kernel-libipsec) set up a tunnel; pings go through it as plain ESP on the veth, and each
 *    kernel holds both ESP states.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCapture } from '../interop/harness/capture.js';
import { DEFAULT_PLUGINS, startCharon, type Charon } from '../interop/harness/charon.js';
import { createLab, type Lab } from '../interop/harness/netns.js';
import { describeFailure, run, runChecked } from '../interop/harness/process.js';
import { labPskConf } from '../interop/harness/swanctl-conf.js';
import { guestDriver } from './guest-report.js';
import { parseXfrmStates } from './xfrm-text.js';

const driver = guestDriver();
const loadedModules = (): string[] => readFileSync('/proc/modules', 'utf8').split('\n').map((line) => line.split(' ')[0] ?? '');

await driver.check('environment', () => ({
  uid: process.getuid?.(),
  cwd: process.cwd(),
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  node: process.version,
}));

await driver.check('esp-state', async () => {
  const key = `0x${Buffer.from('ikekm kernel-vm key!', 'latin1').toString('hex')}`; // 16 octets of key + 4 of salt
  // The first ESP state loads a dozen modules (xfrm_user, esp4, gcm, ghash, ctr, drbg…), one
  // modprobe each: seconds under emulation, more than ten when the host is busy.
  const slow = { timeoutMs: 90_000 };
  await runChecked('ip', ['xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x100', 'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', key, '128'], slow);
  const listed = (await runChecked('ip', ['xfrm', 'state'], slow)).stdout;
  await runChecked('ip', ['xfrm', 'state', 'flush'], slow);
  return { key, listed, autoloaded: ['esp4', 'xfrm_user', 'gcm'].filter((m) => loadedModules().includes(m)) };
});

let lab: Lab | undefined;
const charons: Charon[] = [];
try {
  lab = await driver.check('veth-ping', async () => {
    const created = await createLab();
    const ping = await created.exec('a', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', created.b.outer4], { timeoutMs: 15_000 });
    if (!ping.ok) throw new Error(describeFailure(ping));
    return created;
  });
  if (!lab) {
    driver.skip('tunnel', 'no lab');
  } else {
    await strongSwanTunnel(lab);
  }
} finally {
  await Promise.all(charons.map((c) => c.stop()));
  await lab?.destroy();
}
driver.finish();

async function strongSwanTunnel(lab: Lab): Promise<void> {
  const plugins = DEFAULT_PLUGINS.filter((p) => p !== 'kernel-libipsec');
  const conf = (side: 'a' | 'b'): string => labPskConf(lab, side, { proposals: 'aes128gcm16-prfsha256-x25519', espProposals: 'aes128gcm16' });
  const started = await driver.check('charons', async () => {
    charons.push(...(await Promise.all((['a', 'b'] as const).map((side) => startCharon(lab[side].ns, { dir: join(lab.dir, side), conf: conf(side), plugins, startTimeoutMs: 60_000 })))));
    return { plugins };
  });
  const [a, b] = charons;
  if (!started || !a || !b) return driver.skip('tunnel', 'charons did not start');

  const capture = await startCapture(lab.a.ns, lab.a.iface, join(lab.dir, 'veth-a.pcapng'), { startTimeoutMs: 30_000 });
  await driver.check('tunnel', async () => {
    const initiate = await a.initiate('net', { timeoutS: 30 });
    const ping = await lab.exec('a', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', lab.a.inner4, lab.b.inner4], { timeoutMs: 20_000 });
    if (!ping.ok) throw new Error(`${describeFailure(ping)}\n${a.diagnostics(20)}`);
    return { initiate: initiate.stdout.split('\n').slice(-3).join('\n'), ping: ping.stdout };
  });
  await capture.stop();

  await driver.check('kernel-sas', async () => {
    const states = async (side: 'a' | 'b') => parseXfrmStates((await runChecked('ip', ['-n', lab[side].ns, '-s', 'xfrm', 'state'])).stdout);
    const child = async (charon: Charon) => (await charon.listSas()).flatMap((sa) => sa.childSas).find((c) => c.state === 'INSTALLED');
    return { a: await states('a'), b: await states('b'), charonA: await child(a), charonB: await child(b) };
  });

  await driver.check('esp-on-the-wire', async () => {
    const fields = await run('tshark', ['-r', capture.file, '-Y', 'esp', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'esp.spi'], { timeoutMs: 60_000 });
    if (!fields.ok) throw new Error(describeFailure(fields));
    return fields.stdout
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [src, dst, spi] = line.split('\t');
        return { src, dst, spi };
      });
  });
}
