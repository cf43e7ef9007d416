/**
 * Guest driver of daemon-strongswan.test.ts (runs inside the VM, as root): `ikekm daemon` with
 * `kernel: xfrm` in namespace a (192.0.2.1, protecting 198.51.100.1) against strongSwan's charon
 * with kernel-netlink in namespace b (192.0.2.2, protecting 203.0.113.1): both kernels carry the
 * traffic with ESP. Every step returns what the host-side test asserts on: `ip xfrm` in both
 * namespaces, ikekm's key log and status, charon's SAs, ping statistics.
 *
 * Steps, in order, on one daemon process unless said otherwise:
 *   initiator       ikekm brings the tunnel up (`up`), pings both ways
 *   down            `down` removes everything ikekm installed
 *   responder       charon initiates, pings both ways
 *   rekeys          a 50 ms ping each way for 60 s across Child SA and IKE SA rekeys from each side
 *   byte-lifetime   a data policy of 200 KB: traffic makes the kernel's soft expire start the rekey
 *   encap           charon forces UDP encapsulation (encap = yes): ESP-in-UDP on 4500
 *   on-demand       a trap; the first ping brings the tunnel up through the kernel's acquire
 *   sigterm         SIGTERM: the Deletes reach charon, nothing of ikekm's stays in the kernel
 *   sigkill-restart a start: on-load daemon killed with SIGKILL, started again: it removes what the
 *                   killed one left and brings the tunnel back by itself
 */
import { join } from 'node:path';
import { DEFAULT_PLUGINS, startCharon, type Charon } from '../interop/harness/charon.js';
import { createLab, type Lab } from '../interop/harness/netns.js';
import { runChecked, sleep, waitUntil } from '../interop/harness/process.js';
import { labPskConf } from '../interop/harness/swanctl-conf.js';
import type { IkeSaInfo } from '../interop/harness/vici.js';
import { guestDriver } from './guest-report.js';
import { startGuestDaemon, type DaemonStatus, type GuestDaemon } from './guest-daemon.js';
import { ESP_PROPOSAL, IKE_PROPOSAL, ikekmYaml, KILOBYTES, PSK } from './daemon-lab-config.js';
import { continuousPing, kernelView, ping, xfrmErrorCounters, type KernelView, type PingResult } from './guest-lab.js';

// ---- what the steps report (the host-side test imports these types) ----

/** One tunnel as both sides see it. */
export interface TunnelReport {
  readonly a: KernelView;
  readonly b: KernelView;
  /** ikekm's key log (esp_sa lines). */
  readonly espSa: readonly string[];
  readonly status: DaemonStatus;
  readonly charon: readonly IkeSaInfo[];
  readonly pingAToB: PingResult;
  readonly pingBToA: PingResult;
}

export interface DownReport {
  readonly before: KernelView;
  readonly after: KernelView;
  readonly charonAfter: readonly IkeSaInfo[];
}

export interface RekeysReport {
  readonly aToB: PingResult;
  readonly bToA: PingResult;
  /** What was done when, in seconds from the start of the pings. */
  readonly actions: ReadonlyArray<{ readonly atSeconds: number; readonly action: string }>;
  /** ikekm's "Child SA installed" records with rekeyOf during the pings (our inbound SPIs). */
  readonly childRekeys: number;
  readonly ikeRekeys: number;
  /** The Child SAs' inbound SPIs before and after. */
  readonly spisBefore: readonly string[];
  readonly spisAfter: readonly string[];
  readonly after: KernelView;
  readonly status: DaemonStatus;
  /** XFRM error counters of both namespaces after the pings (for a failure message). */
  readonly xfrmErrors: { readonly a: Record<string, number>; readonly b: Record<string, number> };
}

export interface ByteLifetimeReport {
  readonly ping: PingResult;
  readonly firstSpis: { readonly in: string; readonly out: string };
  /** The Child SA's states in a while traffic ran, sampled (ip -s xfrm state). */
  readonly samples: readonly KernelView[];
  readonly childRekeys: number;
  readonly softExpireLogs: number;
  readonly hardLimitDeletes: number;
  readonly after: KernelView;
  readonly status: DaemonStatus;
}

export interface OnDemandReport {
  readonly trapPolicies: KernelView;
  readonly ping: PingResult;
  readonly status: DaemonStatus;
  readonly after: KernelView;
  readonly acquireLogs: number;
}

export interface SigtermReport {
  readonly exit: { readonly code: number | null; readonly signal: string | null };
  readonly before: KernelView;
  readonly after: KernelView;
  readonly charonAfter: readonly IkeSaInfo[];
}

export interface SigkillReport {
  readonly before: KernelView;
  readonly afterKill: KernelView;
  readonly afterRestart: KernelView;
  readonly leftoversRemovedLog: boolean;
  readonly status: DaemonStatus;
  readonly pingAToB: PingResult;
  readonly pingBToA: PingResult;
  readonly finalExit: { readonly code: number | null; readonly signal: string | null };
  readonly afterStop: KernelView;
}

// ---- the configurations ----

function charonConf(lab: Lab, options: { readonly encap?: boolean } = {}): string {
  return labPskConf(lab, 'b', {
    psk: PSK,
    proposals: IKE_PROPOSAL,
    espProposals: ESP_PROPOSAL,
    // No rekeys or DPD of charon's own during the steps: the test starts each one.
    connExtra: ['rekey_time = 0', ...(options.encap === true ? ['encap = yes'] : [])].join('\n'),
    childExtra: 'rekey_time = 0',
  });
}

// ---- the run ----

const driver = guestDriver();
const lab = await createLab({ ipv6: false });
const charonPlugins = DEFAULT_PLUGINS.filter((p) => p !== 'kernel-libipsec');
let charon: Charon | undefined;
let daemon: GuestDaemon | undefined;
const daemonDir = join(lab.dir, 'ikekm');

try {
  await main();
} finally {
  if (daemon?.running) await daemon.stop().catch(() => undefined);
  await charon?.stop().catch(() => undefined);
  driver.finish();
  await lab.destroy().catch(() => undefined);
}

async function main(): Promise<void> {
  const ready = await driver.check('setup', async () => {
    // ikekm installs no routes: the route to the protected host leaves from the protected address.
    await runChecked('ip', ['-n', lab.a.ns, 'route', 'add', `${lab.b.inner4}/32`, 'via', lab.b.outer4, 'src', lab.a.inner4]);
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: charonConf(lab), plugins: charonPlugins, startTimeoutMs: 60_000 });
    const started = Date.now();
    daemon = await startGuestDaemon(lab.a.ns, daemonDir, ikekmYaml(lab, daemonDir, { start: 'listen' }));
    return { daemonStartSeconds: (Date.now() - started) / 1000, kernelOpened: daemon.records('XFRM kernel opened; SAs and policies a previous ikekm left removed').length };
  });
  if (!ready || charon === undefined || daemon === undefined) return driver.skip('initiator', 'setup failed');
  const c = charon;
  let d = daemon;

  await driver.check('initiator', async () => {
    await d.request({ cmd: 'up', name: 'lab' });
    await waitForTunnel(d, c);
    return tunnelReport(d, c);
  });

  await driver.check('down', async () => {
    const before = await kernelView(lab.a.ns);
    await d.request({ cmd: 'down', name: 'lab' });
    await c.waitForSas('charon to have no IKE SA', (sas) => sas.length === 0, { timeoutMs: 60_000 });
    return { before, after: await kernelView(lab.a.ns), charonAfter: await c.listSas() } satisfies DownReport;
  });

  await driver.check('responder', async () => {
    await c.initiate('net', { timeoutS: 120 });
    await waitForTunnel(d, c);
    return tunnelReport(d, c);
  });

  await driver.check('rekeys', async () => rekeys(d, c));

  await driver.check('byte-lifetime', async () => {
    await d.request({ cmd: 'down', name: 'lab' });
    await c.waitForSas('charon to have no IKE SA', (sas) => sas.length === 0, { timeoutMs: 60_000 });
    await d.reload(ikekmYaml(lab, daemonDir, { start: 'listen', kilobytes: KILOBYTES }));
    await d.request({ cmd: 'up', name: 'lab' });
    await waitForTunnel(d, c);
    return byteLifetime(d);
  });

  await driver.check('encap', async () => {
    await d.request({ cmd: 'down', name: 'lab' });
    await c.waitForSas('charon to have no IKE SA', (sas) => sas.length === 0, { timeoutMs: 60_000 });
    await d.reload(ikekmYaml(lab, daemonDir, { start: 'listen' }));
    c.writeConf(charonConf(lab, { encap: true }));
    await c.loadAll();
    await c.initiate('net', { timeoutS: 120 });
    await waitForTunnel(d, c);
    return tunnelReport(d, c);
  });

  await driver.check('on-demand', async () => {
    await d.request({ cmd: 'down', name: 'lab' });
    await c.waitForSas('charon to have no IKE SA', (sas) => sas.length === 0, { timeoutMs: 60_000 });
    c.writeConf(charonConf(lab));
    await c.loadAll();
    const from = d.logs.length;
    await d.reload(ikekmYaml(lab, daemonDir, { start: 'on-demand' }));
    const trapPolicies = await kernelView(lab.a.ns);
    // The first packets fall into the trap (the kernel drops them while the SA is negotiated).
    const result = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 40, intervalSeconds: 0.5 });
    const status = await waitForTunnel(d, c);
    return { trapPolicies, ping: result, status, after: await kernelView(lab.a.ns), acquireLogs: d.logs.slice(from).filter((l) => /^acquire/.test(l.msg ?? '')).length } satisfies OnDemandReport;
  });

  await driver.check('sigterm', async () => {
    const before = await kernelView(lab.a.ns);
    const exit = await d.stop();
    await c.waitForSas('charon to have no IKE SA', (sas) => sas.length === 0, { timeoutMs: 60_000 });
    return { exit, before, after: await kernelView(lab.a.ns), charonAfter: await c.listSas() } satisfies SigtermReport;
  });

  await driver.check('sigkill-restart', async () => {
    d = await startGuestDaemon(lab.a.ns, daemonDir, ikekmYaml(lab, daemonDir, { start: 'on-load' }));
    daemon = d;
    await waitForTunnel(d, c);
    const before = await kernelView(lab.a.ns);
    d.signal('SIGKILL');
    await d.exited;
    const afterKill = await kernelView(lab.a.ns);
    d = await startGuestDaemon(lab.a.ns, daemonDir, ikekmYaml(lab, daemonDir, { start: 'on-load' }));
    daemon = d;
    const status = await waitForTunnel(d, c, (s) => s.ikeSas.length === 1);
    const afterRestart = await kernelView(lab.a.ns);
    const pingAToB = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 5, intervalSeconds: 0.2 });
    const pingBToA = await ping(lab.b.ns, lab.b.inner4, lab.a.inner4, { count: 5, intervalSeconds: 0.2 });
    const leftoversRemovedLog = d.logs.some((l) => l.msg === 'XFRM kernel opened; SAs and policies a previous ikekm left removed' && Number(l.removedSas ?? 0) > 0);
    const finalExit = await d.stop();
    return { before, afterKill, afterRestart, leftoversRemovedLog, status, pingAToB, pingBToA, finalExit, afterStop: await kernelView(lab.a.ns) } satisfies SigkillReport;
  });
}

/** Both sides hold one IKE SA with a Child SA installed; resolves with ikekm's status. */
async function waitForTunnel(d: GuestDaemon, c: Charon, extra: (s: DaemonStatus) => boolean = () => true): Promise<DaemonStatus> {
  const status = await d.waitForStatus('ikekm to have an established IKE SA with an installed Child SA', (s) =>
    s.ikeSas.some((sa) => sa.state === 'ESTABLISHED' && sa.childSas.some((child) => child.state === 'INSTALLED')) && extra(s),
  );
  await c.waitForSas('charon to have an INSTALLED Child SA', (sas) => sas.some((sa) => sa.childSas.some((child) => child.state === 'INSTALLED')), { timeoutMs: 60_000 });
  return status;
}

async function tunnelReport(d: GuestDaemon, c: Charon): Promise<TunnelReport> {
  const pingAToB = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 5, intervalSeconds: 0.2 });
  const pingBToA = await ping(lab.b.ns, lab.b.inner4, lab.a.inner4, { count: 5, intervalSeconds: 0.2 });
  return {
    a: await kernelView(lab.a.ns),
    b: await kernelView(lab.b.ns),
    espSa: d.keylog('esp_sa'),
    status: await d.status(),
    charon: await c.listSas(),
    pingAToB,
    pingBToA,
  };
}

function inboundSpis(s: DaemonStatus): string[] {
  return s.ikeSas.flatMap((sa) => sa.childSas.map((child) => child.spiIn)).sort();
}

async function rekeys(d: GuestDaemon, c: Charon): Promise<RekeysReport> {
  const spisBefore = inboundSpis(await d.status());
  const from = d.logs.length;
  const seconds = 60;
  const started = Date.now();
  const pings = Promise.all([
    continuousPing(lab.a.ns, lab.a.inner4, lab.b.inner4, seconds),
    continuousPing(lab.b.ns, lab.b.inner4, lab.a.inner4, seconds),
  ]);
  const actions: Array<{ atSeconds: number; action: string }> = [];
  // Three Child SA rekeys and one IKE SA rekey from each side, seven seconds apart.
  const plan: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
    ['ikekm rekeys the Child SA', () => d.request({ cmd: 'rekey', name: 'lab' })],
    ['charon rekeys the Child SA', () => c.rekey({ child: 'net' }, { timeoutMs: 30_000 })],
    ['ikekm rekeys the IKE SA', () => d.request({ cmd: 'rekey', name: 'lab', ike: true })],
    ['ikekm rekeys the Child SA', () => d.request({ cmd: 'rekey', name: 'lab' })],
    ['charon rekeys the IKE SA', () => c.rekey({ ike: 'lab' }, { timeoutMs: 30_000 })],
    ['charon rekeys the Child SA', () => c.rekey({ child: 'net' }, { timeoutMs: 30_000 })],
    ['ikekm rekeys the Child SA', () => d.request({ cmd: 'rekey', name: 'lab' })],
    ['charon rekeys the Child SA', () => c.rekey({ child: 'net' }, { timeoutMs: 30_000 })],
  ];
  for (const [i, [action, run]] of plan.entries()) {
    await sleep(Math.max(0, started + (4 + 7 * i) * 1000 - Date.now()));
    actions.push({ atSeconds: (Date.now() - started) / 1000, action });
    await run();
  }
  const [aToB, bToA] = await pings;
  const logs = d.logs.slice(from);
  const status = await d.status();
  return {
    aToB,
    bToA,
    actions,
    childRekeys: logs.filter((l) => l.msg === 'Child SA installed' && typeof l.rekeyOf === 'string').length,
    ikeRekeys: logs.filter((l) => l.msg === 'IKE SA rekeyed: Child SAs moved to the new IKE SA').length,
    spisBefore,
    spisAfter: inboundSpis(status),
    after: await kernelView(lab.a.ns),
    status,
    xfrmErrors: { a: await xfrmErrorCounters(lab.a.ns), b: await xfrmErrorCounters(lab.b.ns) },
  };
}

async function byteLifetime(d: GuestDaemon): Promise<ByteLifetimeReport> {
  const status = await d.status();
  const child = status.ikeSas[0]?.childSas[0];
  if (child === undefined) throw new Error('no Child SA to fill');
  const from = d.logs.length;
  // 1000-octet pings, ten a second each way: ~20 KB/s per SA, so the 200 KB soft limit falls
  // after ~10 s, and the 10 % to the hard limit take a second more than the rekey needs.
  const samples: KernelView[] = [];
  const pinging = ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 300, intervalSeconds: 0.1, size: 1000 });
  let done = false;
  void pinging.finally(() => (done = true));
  while (!done) {
    samples.push(await kernelView(lab.a.ns, { statistics: true }));
    await sleep(3000);
  }
  const result = await pinging;
  await waitUntil('the rekeyed Child SA to be deleted', async () => ((await d.status()).ikeSas[0]?.childSas.length === 1 ? true : undefined), { timeoutMs: 60_000 });
  const logs = d.logs.slice(from);
  return {
    ping: result,
    firstSpis: { in: child.spiIn, out: child.spiOut },
    samples,
    childRekeys: logs.filter((l) => l.msg === 'Child SA installed' && typeof l.rekeyOf === 'string').length,
    softExpireLogs: logs.filter((l) => l.msg === 'Child SA soft lifetime reached: rekey').length,
    hardLimitDeletes: logs.filter((l) => l.msg === 'Child SA deleted' && /hard/.test(String(l.reason))).length,
    after: await kernelView(lab.a.ns, { statistics: true }),
    status: await d.status(),
  };
}
