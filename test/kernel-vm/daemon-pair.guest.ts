/**
 * Guest driver of daemon-pair.test.ts (runs inside the VM, as root): two `ikekm daemon`s, both
 * with `kernel: xfrm`, in namespaces a (192.0.2.1, protecting 198.51.100.1) and b (192.0.2.2,
 * protecting 203.0.113.1). Every step returns what the host-side test asserts on.
 *
 *   tunnel          a brings the tunnel up (`up`), pings both ways
 *   rekeys          a 50 ms ping each way for 60 s across Child SA and IKE SA rekeys from each side
 *   byte-lifetime   200 KB on both sides: both kernels' soft expires fall on the same packet, so
 *                   both daemons start the rekey at once (RFC 7296 2.8.1), under traffic
 *   down            `down` on a: nothing of the tunnel stays in either kernel
 *   on-demand       a trap on a; the first ping brings the tunnel up through the acquire
 *   sigterm         SIGTERM to a: b hears the Delete; nothing stays in either kernel
 *   sigkill-restart a (start: on-load) killed with SIGKILL and started again: it removes what the
 *                   killed one left, brings the tunnel back, and b replaces its stale SA
 */
import { join } from 'node:path';
import { createLab } from '../interop/harness/netns.js';
import { runChecked, sleep, waitUntil } from '../interop/harness/process.js';
import { ikekmYaml, KILOBYTES } from './daemon-lab-config.js';
import { startGuestDaemon, type DaemonStatus, type GuestDaemon } from './guest-daemon.js';
import { guestDriver } from './guest-report.js';
import { continuousPing, kernelView, ping, xfrmErrorCounters, type KernelView, type PingResult } from './guest-lab.js';

// ---- what the steps report (the host-side test imports these types) ----

export interface Side {
  readonly kernel: KernelView;
  readonly espSa: readonly string[];
  readonly status: DaemonStatus;
}

export interface PairTunnelReport {
  readonly a: Side;
  readonly b: Side;
  readonly pingAToB: PingResult;
  readonly pingBToA: PingResult;
}

export interface PairRekeysReport {
  readonly aToB: PingResult;
  readonly bToA: PingResult;
  readonly actions: ReadonlyArray<{ readonly atSeconds: number; readonly action: string; readonly error?: string }>;
  /** "Child SA installed" with rekeyOf, and IKE SA hand-overs, in each daemon's log. */
  readonly childRekeys: { readonly a: number; readonly b: number };
  readonly ikeRekeys: { readonly a: number; readonly b: number };
  readonly after: { readonly a: Side; readonly b: Side };
  /** XFRM error counters of both namespaces after the pings (for a failure message). */
  readonly xfrmErrors: { readonly a: Record<string, number>; readonly b: Record<string, number> };
}

export interface PairByteLifetimeReport {
  readonly ping: PingResult;
  readonly firstSpis: readonly string[];
  readonly softExpireLogs: { readonly a: number; readonly b: number };
  readonly hardLimitDeletes: { readonly a: number; readonly b: number };
  readonly after: { readonly a: Side; readonly b: Side };
}

export interface PairStopReport {
  readonly before: { readonly a: KernelView; readonly b: KernelView };
  readonly after: { readonly a: KernelView; readonly b: KernelView };
  readonly exit?: { readonly code: number | null; readonly signal: string | null };
  readonly bStatus: DaemonStatus;
}

export interface PairOnDemandReport {
  readonly trap: KernelView;
  readonly ping: PingResult;
  readonly after: { readonly a: Side; readonly b: Side };
}

export interface PairSigkillReport {
  readonly before: KernelView;
  readonly afterKill: KernelView;
  readonly leftoversRemovedLog: boolean;
  readonly after: { readonly a: Side; readonly b: Side };
  readonly pingAToB: PingResult;
  readonly pingBToA: PingResult;
  readonly exits: { readonly a: { readonly code: number | null; readonly signal: string | null }; readonly b: { readonly code: number | null; readonly signal: string | null } };
  readonly afterStop: { readonly a: KernelView; readonly b: KernelView };
}

// ---- the run ----

const driver = guestDriver();
const lab = await createLab({ ipv6: false });
const dirs = { a: join(lab.dir, 'ikekm-a'), b: join(lab.dir, 'ikekm-b') };
const daemons: { a?: GuestDaemon; b?: GuestDaemon } = {};

try {
  await main();
} finally {
  for (const d of [daemons.a, daemons.b]) if (d?.running) await d.stop().catch(() => undefined);
  driver.finish();
  await lab.destroy().catch(() => undefined);
}

async function main(): Promise<void> {
  const ready = await driver.check('setup', async () => {
    // ikekm installs no routes: each side routes the other's protected host from its own.
    await runChecked('ip', ['-n', lab.a.ns, 'route', 'add', `${lab.b.inner4}/32`, 'via', lab.b.outer4, 'src', lab.a.inner4]);
    await runChecked('ip', ['-n', lab.b.ns, 'route', 'add', `${lab.a.inner4}/32`, 'via', lab.a.outer4, 'src', lab.b.inner4]);
    const started = Date.now();
    [daemons.a, daemons.b] = await Promise.all([
      startGuestDaemon(lab.a.ns, dirs.a, ikekmYaml(lab, dirs.a, { start: 'listen' })),
      startGuestDaemon(lab.b.ns, dirs.b, ikekmYaml(lab, dirs.b, { start: 'listen', self: 'b' })),
    ]);
    return { daemonsStartSeconds: (Date.now() - started) / 1000 };
  });
  if (!ready || daemons.a === undefined || daemons.b === undefined) return driver.skip('tunnel', 'setup failed');
  let a = daemons.a;
  const b = daemons.b;

  await driver.check('tunnel', async () => {
    await a.request({ cmd: 'up', name: 'lab' });
    await waitForTunnel(a, b);
    return tunnelReport(a, b);
  });

  await driver.check('rekeys', async () => rekeys(a, b));

  await driver.check('byte-lifetime', async () => {
    await a.request({ cmd: 'down', name: 'lab' });
    await waitForNoSa(a, b);
    await Promise.all([a.reload(ikekmYaml(lab, dirs.a, { start: 'listen', kilobytes: KILOBYTES })), b.reload(ikekmYaml(lab, dirs.b, { start: 'listen', self: 'b', kilobytes: KILOBYTES }))]);
    await a.request({ cmd: 'up', name: 'lab' });
    await waitForTunnel(a, b);
    return byteLifetime(a, b);
  });

  await driver.check('down', async () => {
    const before = { a: await kernelView(lab.a.ns), b: await kernelView(lab.b.ns) };
    await a.request({ cmd: 'down', name: 'lab' });
    await waitForNoSa(a, b);
    return { before, after: { a: await kernelView(lab.a.ns), b: await kernelView(lab.b.ns) }, bStatus: await b.status() } satisfies PairStopReport;
  });

  await driver.check('on-demand', async () => {
    await Promise.all([a.reload(ikekmYaml(lab, dirs.a, { start: 'on-demand' })), b.reload(ikekmYaml(lab, dirs.b, { start: 'listen', self: 'b' }))]);
    const trap = await kernelView(lab.a.ns);
    const result = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 40, intervalSeconds: 0.5 });
    await waitForTunnel(a, b);
    return { trap, ping: result, after: { a: await side(a), b: await side(b) } } satisfies PairOnDemandReport;
  });

  await driver.check('sigterm', async () => {
    const before = { a: await kernelView(lab.a.ns), b: await kernelView(lab.b.ns) };
    const exit = await a.stop();
    await b.waitForStatus('b to have no IKE SA', (s) => s.ikeSas.length === 0, 60_000);
    return { before, exit, after: { a: await kernelView(lab.a.ns), b: await kernelView(lab.b.ns) }, bStatus: await b.status() } satisfies PairStopReport;
  });

  await driver.check('sigkill-restart', async () => {
    a = await startGuestDaemon(lab.a.ns, dirs.a, ikekmYaml(lab, dirs.a, { start: 'on-load' }));
    daemons.a = a;
    await waitForTunnel(a, b);
    const before = await kernelView(lab.a.ns);
    a.signal('SIGKILL');
    await a.exited;
    const afterKill = await kernelView(lab.a.ns);
    a = await startGuestDaemon(lab.a.ns, dirs.a, ikekmYaml(lab, dirs.a, { start: 'on-load' }));
    daemons.a = a;
    // b had the killed daemon's IKE SA: the new one's INITIAL_CONTACT makes it drop that.
    await waitForTunnel(a, b, (s) => s.ikeSas.length === 1);
    await b.waitForStatus("b to have dropped the killed daemon's SA", (s) => s.ikeSas.length === 1 && s.ikeSas[0]!.childSas.length === 1, 60_000);
    const leftoversRemovedLog = a.logs.some((l) => l.msg === 'XFRM kernel opened; SAs and policies a previous ikekm left removed' && Number(l.removedSas ?? 0) > 0);
    const after = { a: await side(a), b: await side(b) };
    const pingAToB = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 5, intervalSeconds: 0.2 });
    const pingBToA = await ping(lab.b.ns, lab.b.inner4, lab.a.inner4, { count: 5, intervalSeconds: 0.2 });
    const exits = { a: await a.stop(), b: await b.stop() };
    return { before, afterKill, leftoversRemovedLog, after, pingAToB, pingBToA, exits, afterStop: { a: await kernelView(lab.a.ns), b: await kernelView(lab.b.ns) } } satisfies PairSigkillReport;
  });
}

function installed(s: DaemonStatus): boolean {
  return s.ikeSas.some((sa) => sa.state === 'ESTABLISHED' && sa.childSas.some((child) => child.state === 'INSTALLED'));
}

async function waitForTunnel(a: GuestDaemon, b: GuestDaemon, extra: (s: DaemonStatus) => boolean = () => true): Promise<void> {
  await a.waitForStatus('a to have an installed Child SA', (s) => installed(s) && extra(s));
  await b.waitForStatus('b to have an installed Child SA', installed);
}

async function waitForNoSa(a: GuestDaemon, b: GuestDaemon): Promise<void> {
  await a.waitForStatus('a to have no IKE SA', (s) => s.ikeSas.length === 0, 60_000);
  await b.waitForStatus('b to have no IKE SA', (s) => s.ikeSas.length === 0, 60_000);
}

async function side(d: GuestDaemon, statistics = false): Promise<Side> {
  return { kernel: await kernelView(d.ns, { statistics }), espSa: d.keylog('esp_sa'), status: await d.status() };
}

async function tunnelReport(a: GuestDaemon, b: GuestDaemon): Promise<PairTunnelReport> {
  const pingAToB = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 5, intervalSeconds: 0.2 });
  const pingBToA = await ping(lab.b.ns, lab.b.inner4, lab.a.inner4, { count: 5, intervalSeconds: 0.2 });
  return { a: await side(a), b: await side(b), pingAToB, pingBToA };
}

function rekeyedChildren(d: GuestDaemon, from: number): number {
  return d.logs.slice(from).filter((l) => l.msg === 'Child SA installed' && typeof l.rekeyOf === 'string').length;
}
function rekeyedIkeSas(d: GuestDaemon, from: number): number {
  return d.logs.slice(from).filter((l) => l.msg === 'IKE SA rekeyed: Child SAs moved to the new IKE SA').length;
}

async function rekeys(a: GuestDaemon, b: GuestDaemon): Promise<PairRekeysReport> {
  const from = { a: a.logs.length, b: b.logs.length };
  const started = Date.now();
  const pings = Promise.all([continuousPing(lab.a.ns, lab.a.inner4, lab.b.inner4, 60), continuousPing(lab.b.ns, lab.b.inner4, lab.a.inner4, 60)]);
  const plan: ReadonlyArray<readonly [string, GuestDaemon, boolean]> = [
    ['a rekeys the Child SA', a, false],
    ['b rekeys the Child SA', b, false],
    ['a rekeys the IKE SA', a, true],
    ['a rekeys the Child SA', a, false],
    ['b rekeys the IKE SA', b, true],
    ['b rekeys the Child SA', b, false],
    ['a rekeys the Child SA', a, false],
    ['b rekeys the Child SA', b, false],
  ];
  const actions: Array<{ atSeconds: number; action: string; error?: string }> = [];
  for (const [i, [action, d, ike]] of plan.entries()) {
    await sleep(Math.max(0, started + (4 + 7 * i) * 1000 - Date.now()));
    const atSeconds = (Date.now() - started) / 1000;
    const error = await d.request({ cmd: 'rekey', name: 'lab', ...(ike ? { ike: true } : {}) }).then(
      () => undefined,
      (e: unknown) => (e as Error).message,
    );
    actions.push({ atSeconds, action, ...(error === undefined ? {} : { error }) });
  }
  const [aToB, bToA] = await pings;
  // The last rekey's Delete of the replaced SAs may still be under way.
  await waitUntil('one Child SA on each side', async () => ((await a.status()).ikeSas[0]?.childSas.length === 1 && (await b.status()).ikeSas[0]?.childSas.length === 1 ? true : undefined), { timeoutMs: 60_000 });
  return {
    aToB,
    bToA,
    actions,
    childRekeys: { a: rekeyedChildren(a, from.a), b: rekeyedChildren(b, from.b) },
    ikeRekeys: { a: rekeyedIkeSas(a, from.a), b: rekeyedIkeSas(b, from.b) },
    after: { a: await side(a), b: await side(b) },
    xfrmErrors: { a: await xfrmErrorCounters(lab.a.ns), b: await xfrmErrorCounters(lab.b.ns) },
  };
}

async function byteLifetime(a: GuestDaemon, b: GuestDaemon): Promise<PairByteLifetimeReport> {
  const firstSpis = (await a.status()).ikeSas.flatMap((sa) => sa.childSas.flatMap((c) => [c.spiIn, c.spiOut]));
  const from = { a: a.logs.length, b: b.logs.length };
  const result = await ping(lab.a.ns, lab.a.inner4, lab.b.inner4, { count: 300, intervalSeconds: 0.1, size: 1000 });
  await waitUntil('one Child SA on each side', async () => ((await a.status()).ikeSas[0]?.childSas.length === 1 && (await b.status()).ikeSas[0]?.childSas.length === 1 ? true : undefined), { timeoutMs: 60_000 });
  const soft = (d: GuestDaemon, start: number): number => d.logs.slice(start).filter((l) => l.msg === 'Child SA soft lifetime reached: rekey').length;
  const hard = (d: GuestDaemon, start: number): number => d.logs.slice(start).filter((l) => l.msg === 'Child SA deleted' && /hard/.test(String(l.reason))).length;
  return {
    ping: result,
    firstSpis,
    softExpireLogs: { a: soft(a, from.a), b: soft(b, from.b) },
    hardLimitDeletes: { a: hard(a, from.a), b: hard(b, from.b) },
    after: { a: await side(a, true), b: await side(b, true) },
  };
}
