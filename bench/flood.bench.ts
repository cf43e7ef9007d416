/**
 * npm run bench:flood (as root, with strongSwan; see test/interop): the ikekm daemon under an
 * IKE_SA_INIT flood while strongSwan sets up and rekeys a tunnel with it.
 *
 *   ns c: flooder, 1 000 source addresses ──veth── ns a: ikekm daemon (memory kernel) ──veth── ns b: charon
 *
 * The daemon has the strongSwan connection and a road-warrior one (remote %any), so IKE_SA_INITs
 * from anywhere are admitted as they would be on a real gateway. The flooder (flood-sender.ts)
 * sends 100 000 IKE_SA_INITs with random SPIs from its 1 000 addresses; in the second variant it
 * also echoes every COOKIE (RFC 7296 2.6), as a flooder that sees the answers can. Two seconds
 * into the flood charon initiates (its setup time is the legitimate setup time), then rekeys the
 * Child SA and the IKE SA. Printed per variant: those times, the daemon's peak RSS (VmHWM), the
 * bytes it logged at its default level, the datagrams the kernel dropped for it (its socket
 * buffer full: what the daemon could not keep up with), and what the flooder saw. No pass/fail: the figures are
 * the result (targets: setup under 2 s, RSS under 300 MB, log under 1 MB).
 *
 * FLOOD_COUNT (100000) and FLOOD_RATE (per second, 5000) change the flood; FLOOD_LIMITS (JSON)
 * sets the daemon's `limits`; FLOOD_CPU_PROFILE (a directory) has the daemon write a V8 CPU
 * profile there per variant (open it in Chrome's DevTools).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readProcessUsage } from '../src/load/process-usage.js';
import { startCharon, type Charon } from '../test/interop/harness/charon.js';
import { labDaemonYaml, IKEKM } from '../test/interop/harness/daemon-process.js';
import { REPO_ROOT } from '../test/interop/harness/ikekm.js';
import { createLab, IP, type Lab } from '../test/interop/harness/netns.js';
import { runChecked, waitUntil } from '../test/interop/harness/process.js';
import { interopAvailable } from '../test/interop/harness/requirements.js';
import { labPskConf } from '../test/interop/harness/swanctl-conf.js';
import type { FloodConfig, FloodCounts } from './flood-sender.js';

const PSK = 'ikekm-flood-bench-psk';
const IKE = 'aes128gcm16-prfsha256-x25519';
const ESP = 'aes128gcm16';
const COUNT = Number(process.env.FLOOD_COUNT ?? 100_000);
const RATE = Number(process.env.FLOOD_RATE ?? 5_000);
const SOURCES = 1_000;
/** FLOOD_LIMITS: the daemon's `limits` as JSON (e.g. '{"ikeSaInitPerSecond":100}'); default none. */
const LIMITS = process.env.FLOOD_LIMITS === undefined ? undefined : (JSON.parse(process.env.FLOOD_LIMITS) as Record<string, number>);
const CPU_PROFILE = process.env.FLOOD_CPU_PROFILE;

/** The IKE_SA_INIT request of a recorded ikekm exchange with this very proposal. */
function template(): string {
  const seed = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fuzz/seeds/responder-gcm-x25519.json'), 'utf8')) as { datagrams: { hex: string }[] };
  return seed.datagrams[0]!.hex;
}

/** The strongSwan connection, and road warriors from anywhere (so spoofed sources find one). */
const daemonYaml = (lab: Lab, control: string): string =>
  labDaemonYaml(lab, {
    control,
    ikeProposals: IKE,
    espProposals: ESP,
    ...(LIMITS === undefined ? {} : { limits: LIMITS }),
    connections: [
      { name: 'sw', start: 'listen', psk: JSON.stringify(PSK) },
      { name: 'roadwarriors', start: 'listen', psk: JSON.stringify(PSK), remote: { address: '%any', id: 'rw.example' }, remoteTraffic: '10.99.0.0/16' },
    ],
  });

/** Namespace c: veth to a, 198.18.0.2/30 plus SOURCES addresses in 198.19.0.0/16, routed from a. */
async function floodNamespace(lab: Lab, created: string[]): Promise<string> {
  const ns = `${lab.id}-c`;
  await runChecked(IP, ['netns', 'add', ns]);
  created.push(ns);
  await runChecked(IP, ['-n', lab.a.ns, 'link', 'add', 'veth-ac', 'type', 'veth', 'peer', 'name', 'veth-c', 'netns', ns]);
  await runChecked(IP, ['-n', lab.a.ns, 'addr', 'add', '198.18.0.1/30', 'dev', 'veth-ac']);
  await runChecked(IP, ['-n', lab.a.ns, 'link', 'set', 'veth-ac', 'up']);
  await runChecked(IP, ['-n', lab.a.ns, 'route', 'add', '198.19.0.0/16', 'via', '198.18.0.2']);
  const batch = ['addr add 198.18.0.2/30 dev veth-c', 'link set veth-c up', 'link set lo up', `route add ${lab.a.outer4}/32 via 198.18.0.1`];
  for (let i = 0; i < SOURCES; i++) batch.splice(1, 0, `addr add ${sourceAddress(i)}/32 dev veth-c`);
  await runChecked(IP, ['-n', ns, '-batch', '-'], { input: `${batch.join('\n')}\n`, timeoutMs: 60_000 });
  return ns;
}

const sourceAddress = (i: number): string => `198.19.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** UDP datagrams the kernel dropped in side a's namespace because a socket's buffer was full (/proc/net/snmp). */
async function udpReceiveBufferErrors(lab: Lab): Promise<number> {
  const snmp = (await runChecked(IP, ['netns', 'exec', lab.a.ns, 'cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const [names, values] = snmp.map((l) => l.trim().split(/\s+/));
  const at = names?.indexOf('RcvbufErrors') ?? -1;
  return at < 0 ? Number.NaN : Number(values?.[at]);
}

const MIB = 1024 * 1024;

function vm(pid: number): { rssMb: number; peakMb: number } {
  const usage = readProcessUsage(pid);
  if (usage === undefined) throw new Error(`the daemon (pid ${pid}) is gone`);
  return { rssMb: usage.rssBytes / MIB, peakMb: usage.peakRssBytes / MIB };
}

async function timed(f: () => Promise<unknown>): Promise<number | string> {
  const t = performance.now();
  try {
    await f();
    return Math.round(performance.now() - t);
  } catch (e) {
    return `failed after ${Math.round(performance.now() - t)} ms: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface VariantResult {
  readonly variant: string;
  readonly setupMs: number | string;
  readonly childRekeyMs: number | string;
  readonly ikeRekeyMs: number | string;
  readonly peakRssMb: number;
  readonly baselineRssMb: number;
  readonly logBytes: number;
  readonly logLines: number;
  /** Datagrams the kernel dropped before the daemon read them (its socket buffer was full). */
  readonly socketDrops: number;
  readonly daemonAlive: boolean;
  readonly flood: FloodCounts | undefined;
  /** The most frequent log messages and their counts. */
  readonly topMessages: readonly (readonly [string, number])[];
  /** charon's log lines of the datagrams it sent and received while setting up. */
  readonly setupPackets: readonly string[];
}

async function runVariant(echoCookies: boolean): Promise<VariantResult> {
  const lab = await createLab({ ipv6: false });
  let floodNs: string | undefined;
  const namespaces: string[] = [];
  let charon: Charon | undefined;
  const daemonDir = join(lab.dir, 'ikekm');
  mkdirSync(join(daemonDir, 'run'), { recursive: true, mode: 0o700 });
  const configFile = join(daemonDir, 'ikekm.yaml');
  writeFileSync(configFile, daemonYaml(lab, join(daemonDir, 'run', 'ikekm.sock')), { mode: 0o600 });
  // A heap cap so that a runaway daemon dies instead of taking the machine with it.
  const profile = CPU_PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE}`];
  const daemon = spawn(IP, ['netns', 'exec', lab.a.ns, process.execPath, '--max-old-space-size=4096', ...profile, IKEKM, 'daemon', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logBytes = 0;
  let logLines = 0;
  let started = false;
  daemon.stdout!.on('data', (chunk: Buffer) => (logBytes += chunk.length));
  daemon.stderr!.on('data', (chunk: Buffer) => (logBytes += chunk.length));
  const messages = new Map<string, number>();
  createInterface({ input: daemon.stdout! }).on('line', (line) => {
    logLines++;
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 60);
    messages.set(msg, (messages.get(msg) ?? 0) + 1);
    if (line.includes('ikekm daemon started')) started = true;
  });
  let alive = true;
  daemon.on('exit', () => (alive = false));
  try {
    floodNs = await floodNamespace(lab, namespaces);
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
    await waitUntil('the ikekm daemon to start', async () => (started ? true : undefined), { timeoutMs: 60_000 });
    const pid = daemon.pid!;
    const baselineRssMb = vm(pid).rssMb;
    const startLog = logBytes;
    const startLines = logLines;
    const startDrops = await udpReceiveBufferErrors(lab);

    const config: FloodConfig = { target: lab.a.outer4, port: 500, sources: Array.from({ length: SOURCES }, (_, i) => sourceAddress(i)), count: COUNT, ratePerSecond: RATE, echoCookies, template: template() };
    const configPath = join(lab.dir, 'flood.json');
    writeFileSync(configPath, JSON.stringify(config));
    const flooder = spawn(IP, ['netns', 'exec', floodNs, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'bench/flood-sender.ts'), configPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let floodOut = '';
    flooder.stdout!.on('data', (c: Buffer) => (floodOut += c.toString()));
    const floodDone = new Promise<void>((resolve) => flooder.on('exit', () => resolve()));
    let peak = baselineRssMb;
    const sampler = setInterval(() => {
      if (alive) peak = Math.max(peak, vm(pid).peakMb);
    }, 250);

    await new Promise((r) => setTimeout(r, 2_000));
    const logBefore = charon.log().length;
    const setupMs = await timed(() => charon!.initiate('net', { timeoutS: 60 }));
    // What charon sent and got during the setup: a retransmission shows which message was lost.
    const setupPackets = charon
      .log()
      .slice(logBefore)
      .split('\n')
      .filter((l) => /sending packet|received packet|retransmit|establishing|giving up/.test(l))
      .map((l) => l.replace(/^.*?\]\s*/, '').slice(0, 120));
    const childRekeyMs = await timed(() => charon!.rekey({ child: 'net' }, { timeoutMs: 60_000 }));
    const ikeRekeyMs = await timed(() => charon!.rekey({ ike: 'lab' }, { timeoutMs: 60_000 }));
    await floodDone;
    await new Promise((r) => setTimeout(r, 1_000));
    clearInterval(sampler);
    if (alive) peak = Math.max(peak, vm(pid).peakMb);
    let flood: FloodCounts | undefined;
    try {
      flood = JSON.parse(floodOut.trim().split('\n').pop() ?? '') as FloodCounts;
    } catch {
      flood = undefined;
    }
    return {
      variant: echoCookies ? 'spoofed, COOKIEs echoed' : 'spoofed',
      setupMs,
      childRekeyMs,
      ikeRekeyMs,
      peakRssMb: Math.round(peak),
      baselineRssMb: Math.round(baselineRssMb),
      logBytes: logBytes - startLog,
      logLines: logLines - startLines,
      socketDrops: (await udpReceiveBufferErrors(lab)) - startDrops,
      daemonAlive: alive,
      flood,
      topMessages: [...messages].sort((x, y) => y[1] - x[1]).slice(0, 5),
      setupPackets,
    };
  } finally {
    if (alive) daemon.kill('SIGTERM');
    // Writing a CPU profile on exit takes a few seconds.
    await new Promise((r) => setTimeout(r, CPU_PROFILE === undefined ? 1_000 : 10_000));
    if (alive) daemon.kill('SIGKILL');
    await charon?.stop();
    for (const ns of namespaces) await runChecked(IP, ['netns', 'del', ns]).catch(() => undefined);
    await lab.destroy();
  }
}

const availability = interopAvailable();
if (!availability.available) {
  console.log(`bench:flood needs the interop lab; missing:\n  - ${availability.missing.join('\n  - ')}`);
  process.exit(0);
}
console.log(`flood: ${COUNT} IKE_SA_INITs at ${RATE}/s from ${SOURCES} addresses; charon initiates 2 s in, then rekeys the Child SA and the IKE SA`);
for (const echo of [false, true]) {
  const r = await runVariant(echo);
  const f = r.flood;
  console.log(
    [
      `\n${r.variant}:`,
      `  legitimate setup ${typeof r.setupMs === 'number' ? `${r.setupMs} ms` : r.setupMs}; Child SA rekey ${typeof r.childRekeyMs === 'number' ? `${r.childRekeyMs} ms` : r.childRekeyMs}; IKE SA rekey ${typeof r.ikeRekeyMs === 'number' ? `${r.ikeRekeyMs} ms` : r.ikeRekeyMs}`,
      `  daemon peak RSS ${r.peakRssMb} MB (${r.baselineRssMb} MB before the flood); log ${r.logBytes} bytes in ${r.logLines} lines; ${r.daemonAlive ? 'alive' : 'DIED'} at the end; ${r.socketDrops} datagrams dropped by the kernel, the daemon's socket buffer full`,
      f === undefined
        ? '  flooder: no report'
        : `  flooder: ${f.sent} sent in ${f.seconds.toFixed(1)} s; answers: ${f.answers} half-open (SA), ${f.cookies} COOKIE, ${f.otherAnswers} other; ${f.cookieEchoes} cookie echoes; ${f.sendErrors} send errors`,
      `  most logged: ${r.topMessages.map(([m, n]) => `${n}× "${m}"`).join(', ')}`,
      `  charon during the setup:\n${r.setupPackets.map((l) => `    ${l}`).join('\n')}`,
    ].join('\n'),
  );
}
