/**
 * Guest driver of xfrm-kernel.test.ts (runs inside the VM, as root): the XFRM backend against a
 * kernel with ESP. The interop lab's two namespaces joined by veth (a 192.0.2.1/24 ↔ b
 * 192.0.2.2/24, protected 198.51.100.1/32 and 203.0.113.1/32 on lo), one XfrmKernel per
 * namespace, installing the mirror images of one Child SA on both sides.
 *
 * One process drives both kernels: a socket belongs to the network namespace it was created in,
 * so each XfrmKernel (and each NAT-T socket) is made after setns(2) into its namespace, and the
 * process then goes back to its own. ip, ping and dumpcap run in the namespaces as usual.
 *
 * Each step's value is what the host-side test asserts on; `ip xfrm` shows the kernel's side.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { KernelError } from '../../src/kernel/kernel-error.js';
import { IKEKM_REQIDS, isIkekmReqid, type KernelAcquire, type KernelPolicy, type KernelSa, type KernelSaExpire, type KernelTrap, type SaUsage } from '../../src/kernel/kernel-port.js';
import { XfrmKernel } from '../../src/kernel/xfrm-kernel.js';
import { EncrId, IntegId } from '../../src/wire/iana.js';
import { startCapture, type Capture } from '../interop/harness/capture.js';
import { createLab, type Lab } from '../interop/harness/netns.js';
import { describeFailure, run, runChecked, sleep, waitUntil } from '../interop/harness/process.js';
import { guestDriver } from './guest-report.js';

// ---- what the steps report (the host-side test imports these types) ----

/** One algorithm set, as installed on both sides and checked. */
export interface AlgorithmCase {
  readonly name: string;
  readonly encryption: { readonly id: EncrId; readonly keyOctets: number; readonly keyLengthBits?: number };
  readonly integrity?: { readonly id: IntegId; readonly keyOctets: number };
  readonly mode: 'tunnel' | 'transport';
  readonly esn: boolean;
  readonly encapsulation: boolean;
}

export interface SaKeys {
  readonly encryption: string;
  readonly integrity?: string;
}

export interface CaseReport {
  readonly reqid: number;
  /** SPIs in 8 hex digits: a → b is b's inbound SA (allocated by b's kernel), b → a is a's. */
  readonly spis: { readonly aToB: string; readonly bToA: string };
  readonly keys: { readonly aToB: SaKeys; readonly bToA: SaKeys };
  /** b's `ip xfrm state` after ALLOCSPI for a → b, before the SA was installed. */
  readonly larval: string;
  /** `ip xfrm state` and `ip xfrm policy` in each namespace with the Child SA installed. */
  readonly states: { readonly a: string; readonly b: string };
  readonly policies: { readonly a: string; readonly b: string };
  readonly ping: string;
  readonly usage: { readonly a: SideUsage; readonly b: SideUsage };
  /** After deleteSa and deletePolicy on both sides. */
  readonly afterDelete: { readonly a: string; readonly b: string };
  /** UDP encapsulation only: the NAT-T sockets before and after protectIkeSocket. */
  readonly natt?: NattReport;
}

export interface SideUsage {
  readonly out: SaUsage | undefined;
  readonly in: SaUsage | undefined;
}

export interface NattReport {
  /** A ping while b's socket on 4500 was bound but not protected: what b's socket received. */
  readonly unprotected: { readonly ping: string; readonly datagrams: readonly string[] };
  /** Datagrams b's socket received from the protected pings (the kernel took them). */
  readonly protectedDatagrams: number;
}

export interface LimitReport {
  readonly spi: string;
  readonly softBytes: number;
  readonly hardBytes: number;
  readonly pings: ReadonlyArray<{ readonly bytesBefore: number | undefined; readonly received: boolean; readonly expires: readonly KernelSaExpire[] }>;
  readonly usageAfterHard: SaUsage | undefined;
  readonly statesAfterHard: string;
}

export interface RefusalReport {
  readonly isKernelError: boolean;
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly message: string;
}

export interface RefusalsReport {
  readonly wrongGcmKey: RefusalReport & { readonly statesBefore: string; readonly statesAfter: string };
  readonly saTwice: RefusalReport;
  readonly policyTwice: RefusalReport;
  readonly deleteMissingSa: RefusalReport;
  readonly deleteMissingPolicy: RefusalReport;
}

export interface EspPacket {
  readonly src: string;
  readonly dst: string;
  readonly proto: string;
  readonly udpDstPort: string;
  readonly spi: string;
}

// ---- the algorithm sets: every ESP transform xfrm-specs.ts maps, then ESN, transport mode, NAT-T ----

export const ALGORITHM_CASES: readonly AlgorithmCase[] = [
  { name: 'aes128gcm16', encryption: { id: EncrId.ENCR_AES_GCM_16, keyOctets: 16 + 4, keyLengthBits: 128 }, mode: 'tunnel', esn: false, encapsulation: false },
  { name: 'aes256gcm16', encryption: { id: EncrId.ENCR_AES_GCM_16, keyOctets: 32 + 4, keyLengthBits: 256 }, mode: 'tunnel', esn: false, encapsulation: false },
  { name: 'chacha20poly1305', encryption: { id: EncrId.ENCR_CHACHA20_POLY1305, keyOctets: 32 + 4 }, mode: 'tunnel', esn: false, encapsulation: false },
  cbc('aes128-sha1', 16, IntegId.AUTH_HMAC_SHA1_96, 20),
  cbc('aes128-sha256', 16, IntegId.AUTH_HMAC_SHA2_256_128, 32),
  cbc('aes192-sha384', 24, IntegId.AUTH_HMAC_SHA2_384_192, 48),
  cbc('aes256-sha512', 32, IntegId.AUTH_HMAC_SHA2_512_256, 64),
  cbc('aes128-aesxcbc', 16, IntegId.AUTH_AES_XCBC_96, 16),
  { name: 'aes128gcm16-esn', encryption: { id: EncrId.ENCR_AES_GCM_16, keyOctets: 20, keyLengthBits: 128 }, mode: 'tunnel', esn: true, encapsulation: false },
  { ...cbc('aes256-sha256-esn', 32, IntegId.AUTH_HMAC_SHA2_256_128, 32), esn: true },
  { name: 'aes128gcm16-transport', encryption: { id: EncrId.ENCR_AES_GCM_16, keyOctets: 20, keyLengthBits: 128 }, mode: 'transport', esn: false, encapsulation: false },
  { name: 'aes128gcm16-udp-encap', encryption: { id: EncrId.ENCR_AES_GCM_16, keyOctets: 20, keyLengthBits: 128 }, mode: 'tunnel', esn: false, encapsulation: true },
];

function cbc(name: string, keyOctets: number, integrity: IntegId, integrityKeyOctets: number): AlgorithmCase {
  return {
    name,
    encryption: { id: EncrId.ENCR_AES_CBC, keyOctets, keyLengthBits: keyOctets * 8 },
    integrity: { id: integrity, keyOctets: integrityKeyOctets },
    mode: 'tunnel',
    esn: false,
    encapsulation: false,
  };
}

/** The NAT-T port of RFC 3948, on both sides. */
const NATT_PORT = 4500;
const PING_TIMEOUT_MS = 30_000;

// ---- namespaces ----

const libc = koffi.load('libc.so.6');
const setnsCall = libc.func('int setns(int fd, int nstype)');
const CLONE_NEWNET = 0x4000_0000;
/** This process's own namespace, to come back to. */
const homeNamespace = openSync('/proc/self/ns/net', 'r');

function setns(fd: number, what: string): void {
  if (setnsCall(fd, CLONE_NEWNET) !== 0) throw new Error(`setns(${what}) failed: errno ${koffi.errno()}`);
}

/**
 * Runs `body` inside network namespace `ns` (sockets it creates stay there; /proc/self/net, where
 * protectIkeSocket finds a socket's descriptor, shows that namespace) and returns to our own.
 */
async function inNamespace<T>(ns: string, body: () => T | Promise<T>): Promise<T> {
  const fd = openSync(`/run/netns/${ns}`, 'r');
  try {
    setns(fd, ns);
  } finally {
    closeSync(fd);
  }
  try {
    return await body();
  } finally {
    setns(homeNamespace, 'home');
  }
}

interface Side {
  readonly name: 'a' | 'b';
  readonly ns: string;
  readonly outer: string;
  readonly inner: string;
  readonly kernel: XfrmKernel;
  readonly expires: KernelSaExpire[];
  readonly acquires: KernelAcquire[];
}

async function openSide(lab: Lab, name: 'a' | 'b'): Promise<Side> {
  const s = lab[name];
  const kernel = await inNamespace(s.ns, () => XfrmKernel.open({ ownsReqid: isIkekmReqid }));
  const side: Side = { name, ns: s.ns, outer: s.outer4, inner: s.inner4, kernel, expires: [], acquires: [] };
  kernel.onExpire((e) => side.expires.push(e));
  kernel.onAcquire((e) => side.acquires.push(e));
  return side;
}

const ip = async (side: Side, ...args: string[]): Promise<string> => (await runChecked('ip', ['-n', side.ns, ...args], { timeoutMs: 30_000 })).stdout;
const states = (side: Side): Promise<string> => ip(side, 'xfrm', 'state');
const policies = (side: Side): Promise<string> => ip(side, 'xfrm', 'policy');
const hex = (spi: number): string => spi.toString(16).padStart(8, '0');

/** Test keys: fixed, distinct per case, direction and purpose. */
function key(label: string, octets: number): Buffer {
  return createHash('sha512').update(label).digest().subarray(0, octets);
}

// ---- one Child SA, as both sides install it ----

/** Outer addresses of the SAs: the veth ones; in transport mode the protected hosts themselves. */
const endpoint = (c: AlgorithmCase, side: Side): string => (c.mode === 'transport' ? side.inner : side.outer);

function keysOf(c: AlgorithmCase, from: Side, to: Side): { encryption: Buffer; integrity?: Buffer } {
  const label = `${c.name} ${from.name}>${to.name}`;
  return {
    encryption: key(`${label} encryption`, c.encryption.keyOctets),
    ...(c.integrity === undefined ? {} : { integrity: key(`${label} integrity`, c.integrity.keyOctets) }),
  };
}

/** The ESP SA carrying from → to; `direction` is as the side installing it sees it. */
function espSa(c: AlgorithmCase, from: Side, to: Side, direction: 'in' | 'out', spi: number, reqid: number, limits: { softBytes?: number; hardBytes?: number } = {}): KernelSa {
  const keys = keysOf(c, from, to);
  return {
    connection: c.name,
    direction,
    protocol: 'esp',
    spi,
    source: endpoint(c, from),
    destination: endpoint(c, to),
    mode: c.mode,
    ...(c.encapsulation ? { encapsulation: { sourcePort: NATT_PORT, destinationPort: NATT_PORT } } : {}),
    encryption: { id: c.encryption.id, ...(c.encryption.keyLengthBits === undefined ? {} : { keyLengthBits: c.encryption.keyLengthBits }), key: keys.encryption },
    ...(c.integrity === undefined || keys.integrity === undefined ? {} : { integrity: { id: c.integrity.id, key: keys.integrity } }),
    esn: c.esn,
    reqid,
    ...limits,
  };
}

const hostRange = (address: string): KernelPolicy['local'] => ({ ipProtocol: 0, startPort: 0, endPort: 0xffff, startAddress: address, endAddress: address });

/** `self`'s policies: out to the peer's host, in and (tunnel mode) fwd from it. */
function policiesOf(c: AlgorithmCase, self: Side, peer: Side, reqid: number): KernelPolicy[] {
  const base = { connection: c.name, local: hostRange(self.inner), remote: hostRange(peer.inner), mode: c.mode, reqid };
  const out: KernelPolicy = { ...base, direction: 'out', tunnelSource: endpoint(c, self), tunnelDestination: endpoint(c, peer) };
  const inbound = { ...base, tunnelSource: endpoint(c, peer), tunnelDestination: endpoint(c, self) };
  return c.mode === 'tunnel' ? [out, { ...inbound, direction: 'in' }, { ...inbound, direction: 'fwd' }] : [out, { ...inbound, direction: 'in' }];
}

interface InstalledChildSa {
  readonly c: AlgorithmCase;
  readonly reqid: number;
  readonly spiAToB: number;
  readonly spiBToA: number;
  readonly larval: string;
  readonly sas: Map<Side, KernelSa[]>;
  readonly policies: Map<Side, KernelPolicy[]>;
}

/**
 * As the engine does it: each side's kernel hands out its inbound SPI (ALLOCSPI), the peer
 * installs it as its outbound SA (NEWSA), the side fills in its larval SA (UPDSA); then the
 * policies. `limits` go on a's outbound SA.
 */
async function installChildSa(c: AlgorithmCase, a: Side, b: Side, reqid: number, limits: { softBytes?: number; hardBytes?: number } = {}): Promise<InstalledChildSa> {
  const spiAToB = await b.kernel.spis.allocate({ source: endpoint(c, a), destination: endpoint(c, b) });
  const spiBToA = await a.kernel.spis.allocate({ source: endpoint(c, b), destination: endpoint(c, a) });
  const larval = await states(b);
  const sas = new Map<Side, KernelSa[]>([
    [a, [espSa(c, a, b, 'out', spiAToB, reqid, limits), espSa(c, b, a, 'in', spiBToA, reqid)]],
    [b, [espSa(c, b, a, 'out', spiBToA, reqid), espSa(c, a, b, 'in', spiAToB, reqid)]],
  ]);
  const installedPolicies = new Map<Side, KernelPolicy[]>([
    [a, policiesOf(c, a, b, reqid)],
    [b, policiesOf(c, b, a, reqid)],
  ]);
  const child = { c, reqid, spiAToB, spiBToA, larval, sas, policies: installedPolicies };
  try {
    for (const side of [a, b]) {
      for (const sa of sas.get(side) ?? []) await side.kernel.installSa(sa);
      for (const policy of installedPolicies.get(side) ?? []) await side.kernel.installPolicy(policy);
    }
  } catch (error) {
    // Leave nothing behind for the next steps: what went in, and the SPIs still larval.
    await deleteChildSa(child, { ignoreMissing: true });
    await b.kernel.spis.release(spiAToB, endpoint(c, b));
    await a.kernel.spis.release(spiBToA, endpoint(c, a));
    throw error;
  }
  return child;
}

async function deleteChildSa(child: InstalledChildSa, options: { readonly ignoreMissing?: boolean } = {}): Promise<void> {
  const attempt = async (call: () => Promise<void>): Promise<void> => {
    try {
      await call();
    } catch (e) {
      if (!(options.ignoreMissing === true && e instanceof KernelError && e.code === 'not-found')) throw e;
    }
  };
  for (const [side, sas] of child.sas) for (const sa of sas) await attempt(() => side.kernel.deleteSa(sa.destination, sa.spi));
  for (const [side, list] of child.policies) for (const policy of list) await attempt(() => side.kernel.deletePolicy(policy));
}

async function usageOf(side: Side, child: InstalledChildSa): Promise<SideUsage> {
  const [out, inbound] = child.sas.get(side) ?? [];
  if (out === undefined || inbound === undefined) throw new Error(`no SAs of ${child.c.name} on ${side.name}`);
  return { out: await side.kernel.usage(out.destination, out.spi), in: await side.kernel.usage(inbound.destination, inbound.spi) };
}

/** ping from a's protected address to b's. */
async function ping(lab: Lab, count: number, options: { readonly size?: number } = {}): Promise<{ readonly received: number; readonly stdout: string }> {
  const args = ['-c', String(count), '-i', '0.2', '-W', '2', '-I', lab.a.inner4, ...(options.size === undefined ? [] : ['-s', String(options.size)]), lab.b.inner4];
  const result = await lab.exec('a', 'ping', args, { timeoutMs: PING_TIMEOUT_MS });
  const received = /(\d+) (?:packets )?received/.exec(result.stdout)?.[1];
  if (received === undefined) throw new Error(`no ping summary: ${describeFailure(result)}`);
  return { received: Number(received), stdout: result.stdout };
}

async function udpSocketIn(side: Side, port: number): Promise<{ socket: dgram.Socket; datagrams: Buffer[] }> {
  return inNamespace(side.ns, async () => {
    const socket = dgram.createSocket('udp4');
    const datagrams: Buffer[] = [];
    socket.on('message', (message) => datagrams.push(message));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, side.outer, () => resolve());
    });
    return { socket, datagrams };
  });
}

const keysHex = (sa: KernelSa | undefined): SaKeys => ({
  encryption: sa?.encryption.key.toString('hex') ?? '',
  ...(sa?.integrity === undefined ? {} : { integrity: sa.integrity.key.toString('hex') }),
});

/**
 * One algorithm set: the Child SA on both sides, 3 pings from a's protected address to b's, what
 * the kernels hold and counted; then deleted. With UDP encapsulation, b's NAT-T socket first
 * gets a ping's ESP-in-UDP datagram itself, until protectIkeSocket hands such datagrams to the kernel.
 */
async function algorithmCase(lab: Lab, a: Side, b: Side, c: AlgorithmCase, reqid: number): Promise<CaseReport> {
  const child = await installChildSa(c, a, b, reqid);
  if (!c.encapsulation) return caseReport(a, b, child, (await ping(lab, 3)).stdout);
  const [onA, onB] = [await udpSocketIn(a, NATT_PORT), await udpSocketIn(b, NATT_PORT)];
  let open = true;
  const close = (): void => {
    if (open) [onA.socket, onB.socket].forEach((s) => s.close());
    open = false;
  };
  try {
    const unprotectedPing = await ping(lab, 1);
    await sleep(200);
    const unprotected = { ping: unprotectedPing.stdout, datagrams: onB.datagrams.map((d) => d.subarray(0, 4).toString('hex')) };
    for (const [side, socket] of [
      [a, onA],
      [b, onB],
    ] as const) {
      await inNamespace(side.ns, () => side.kernel.protectIkeSocket({ family: 'IPv4', address: side.outer, port: NATT_PORT, role: 'natt' }));
      socket.datagrams.length = 0;
    }
    const pinged = await ping(lab, 3);
    const natt: NattReport = { unprotected, protectedDatagrams: onA.datagrams.length + onB.datagrams.length };
    // The sockets' own (bypass) policies go with them: closed before the listing after the delete.
    return await caseReport(a, b, child, pinged.stdout, natt, close);
  } catch (error) {
    close();
    throw error;
  }
}

async function caseReport(a: Side, b: Side, child: InstalledChildSa, pingText: string, natt?: NattReport, beforeDelete?: () => void): Promise<CaseReport> {
  const installed = {
    states: { a: await states(a), b: await states(b) },
    policies: { a: await policies(a), b: await policies(b) },
    usage: { a: await usageOf(a, child), b: await usageOf(b, child) },
  };
  beforeDelete?.();
  await deleteChildSa(child);
  const left = async (side: Side): Promise<string> => (await states(side)) + (await policies(side));
  return {
    reqid: child.reqid,
    spis: { aToB: hex(child.spiAToB), bToA: hex(child.spiBToA) },
    keys: { aToB: keysHex(child.sas.get(a)?.[0]), bToA: keysHex(child.sas.get(a)?.[1]) },
    larval: child.larval,
    ...installed,
    ping: pingText,
    afterDelete: { a: await left(a), b: await left(b) },
    ...(natt === undefined ? {} : { natt }),
  };
}

// ---- the steps ----

const driver = guestDriver();
let lab: Lab | undefined;
let capture: Capture | undefined;
const sides: Side[] = [];
try {
  await driver.check('lab', async () => {
    lab = await createLab({ ipv6: false });
    await runChecked('ip', ['-n', lab.a.ns, 'route', 'add', `${lab.b.inner4}/32`, 'via', lab.b.outer4]);
    await runChecked('ip', ['-n', lab.b.ns, 'route', 'add', `${lab.a.inner4}/32`, 'via', lab.a.outer4]);
    sides.push(await openSide(lab, 'a'), await openSide(lab, 'b'));
    capture = await startCapture(lab.a.ns, lab.a.iface, join(lab.dir, 'veth-a.pcapng'), { startTimeoutMs: 30_000 });
    return { kernel: (await run('uname', ['-r'])).stdout.trim(), namespaces: [lab.a.ns, lab.b.ns] };
  });
  const [a, b] = sides;
  if (lab === undefined || a === undefined || b === undefined) throw new Error('no lab: see the step "lab"');
  const theLab: Lab = lab;

  let reqid = IKEKM_REQIDS.first;

  // The first ESP SA autoloads a dozen modules (esp4, the ciphers…), tens of seconds under
  // emulation: one AES-GCM SA goes in and out first, so that is not part of any check.
  await driver.check('warm-up', async () => {
    const sa = espSa(ALGORITHM_CASES[0]!, a, b, 'out', 0xc000_0100, reqid);
    await a.kernel.installSa(sa);
    await a.kernel.deleteSa(sa.destination, sa.spi);
  });

  for (const c of ALGORITHM_CASES) {
    reqid++;
    await driver.check(`algorithm ${c.name}`, () => algorithmCase(theLab, a, b, c, reqid));
  }

  await driver.check('spi-release', async () => {
    const spi = await b.kernel.spis.allocate({ source: a.outer, destination: b.outer });
    const allocated = await states(b);
    await b.kernel.spis.release(spi, b.outer);
    return { spi: hex(spi), allocated, released: await states(b) };
  });

  // A larval SA from ALLOCSPI lives net.core.xfrm_acq_expires seconds (30 by default): an
  // IKE_AUTH slower than that finds it gone when it installs the inbound SA.
  reqid++;
  await driver.check('allocspi-expired', async () => {
    const sysctl = async (value: number): Promise<void> => {
      await runChecked('ip', ['netns', 'exec', b.ns, 'sysctl', '-qw', `net.core.xfrm_acq_expires=${value}`]);
    };
    await sysctl(1);
    try {
      const spi = await b.kernel.spis.allocate({ source: a.outer, destination: b.outer });
      const allocated = await states(b);
      await waitUntil('the larval SA to expire', async () => (!(await states(b)).includes(`spi 0x${hex(spi)}`) ? true : undefined), { timeoutMs: 20_000, intervalMs: 250 });
      const sa = espSa(ALGORITHM_CASES[0]!, a, b, 'in', spi, reqid);
      let error: RefusalReport | undefined;
      try {
        await b.kernel.installSa(sa);
      } catch (e) {
        error = refusal(e);
      }
      const installed = await states(b);
      if (error === undefined) await b.kernel.deleteSa(sa.destination, sa.spi);
      return { spi: hex(spi), reqid, allocated, error, installed, key: sa.encryption.key.toString('hex') };
    } finally {
      await sysctl(30);
    }
  });

  reqid++;
  await driver.check('byte-limits', async (): Promise<LimitReport> => {
    const c = ALGORITHM_CASES[0]!;
    // Pings of 1000-octet packets: the SA counts a little more per packet (headers), so the
    // soft limit falls after the third packet and the hard one after the fifth.
    const limits = { softBytes: 2_500, hardBytes: 4_500 };
    const child = await installChildSa(c, a, b, reqid, limits);
    const out = child.sas.get(a)?.[0];
    if (out === undefined) throw new Error('no outbound SA');
    a.expires.length = 0;
    const pings: Array<LimitReport['pings'][number]> = [];
    for (let i = 0; i < 10 && !a.expires.some((e) => e.hard); i++) {
      const bytesBefore = (await a.kernel.usage(out.destination, out.spi))?.bytes;
      const pinged = await ping(theLab, 1, { size: 1000 - 28 });
      await sleep(500); // the expire comes from the kernel's timer, after the packet
      pings.push({ bytesBefore, received: pinged.received === 1, expires: [...a.expires] });
    }
    const report: LimitReport = {
      spi: hex(out.spi),
      ...limits,
      pings,
      usageAfterHard: await a.kernel.usage(out.destination, out.spi),
      statesAfterHard: await states(a),
    };
    // The kernel deleted the expired SA itself.
    child.sas.set(a, (child.sas.get(a) ?? []).filter((sa) => sa !== out));
    await deleteChildSa(child);
    return report;
  });

  reqid++;
  await driver.check('trap-acquire', async () => {
    const trap: KernelTrap = { connection: 'on-demand', local: hostRange(a.inner), remote: hostRange(b.inner), mode: 'tunnel', tunnelSource: a.outer, tunnelDestination: b.outer, reqid };
    await a.kernel.installTrap(trap);
    a.acquires.length = 0;
    const pinged = await ping(theLab, 1);
    await waitUntil('an acquire', () => (a.acquires.length > 0 ? true : undefined), { timeoutMs: 10_000 });
    const withTrap = { states: await states(a), policies: await policies(a) };
    await a.kernel.deleteTrap(trap);
    // The larval SA the acquire left (SPI 0) waits for its SA until xfrm_acq_expires; not ours to delete.
    return { received: pinged.received, acquires: [...a.acquires], reqid, ...withTrap, policiesAfterDelete: await policies(a) };
  });

  reqid++;
  await driver.check('refusals', async (): Promise<RefusalsReport> => {
    const c = ALGORITHM_CASES[0]!;
    const child = await installChildSa(c, a, b, reqid);
    try {
      const [out] = child.sas.get(a) ?? [];
      const [policy] = child.policies.get(a) ?? [];
      if (out === undefined || policy === undefined) throw new Error('nothing installed');
      const statesBefore = await states(a);
      const shortKey = { ...out, spi: 0xc000_0200, encryption: { ...out.encryption, key: out.encryption.key.subarray(0, 19) } };
      const wrongGcmKey = { ...(await refusalOf(() => a.kernel.installSa(shortKey))), statesBefore, statesAfter: await states(a) };
      return {
        wrongGcmKey,
        saTwice: await refusalOf(() => a.kernel.installSa(out)),
        policyTwice: await refusalOf(() => a.kernel.installPolicy(policy)),
        deleteMissingSa: await refusalOf(() => a.kernel.deleteSa(b.outer, 0xc000_0300)),
        deleteMissingPolicy: await refusalOf(() => a.kernel.deletePolicy({ ...policy, remote: hostRange('203.0.113.99') })),
      };
    } finally {
      await deleteChildSa(child);
    }
  });

  await driver.check('leftovers', async () => {
    // What a killed ikekm left in b (an SA, a larval SA, a policy, with its reqids) beside
    // another key manager's (reqid 7); the ikekm ones go, the others stay.
    const ours = String(IKEKM_REQIDS.first + 100);
    const aead = ['aead', 'rfc4106(gcm(aes))', `0x${key('leftover', 20).toString('hex')}`, '128'];
    await ip(b, 'xfrm', 'state', 'add', 'src', a.outer, 'dst', b.outer, 'proto', 'esp', 'spi', '0xc0000400', 'reqid', ours, 'mode', 'tunnel', ...aead);
    await ip(b, 'xfrm', 'state', 'allocspi', 'src', a.outer, 'dst', b.outer, 'proto', 'esp', 'reqid', ours, 'mode', 'tunnel');
    await ip(b, 'xfrm', 'policy', 'add', 'src', `${a.inner}/32`, 'dst', `${b.inner}/32`, 'dir', 'in', 'tmpl', 'src', a.outer, 'dst', b.outer, 'proto', 'esp', 'reqid', ours, 'mode', 'tunnel');
    await ip(b, 'xfrm', 'state', 'add', 'src', a.outer, 'dst', b.outer, 'proto', 'esp', 'spi', '0x00000700', 'reqid', '7', 'mode', 'tunnel', ...aead);
    await ip(b, 'xfrm', 'policy', 'add', 'src', '198.51.100.7/32', 'dst', `${b.inner}/32`, 'dir', 'in', 'tmpl', 'src', a.outer, 'dst', b.outer, 'proto', 'esp', 'reqid', '7', 'mode', 'tunnel');
    const before = { states: await states(b), policies: await policies(b) };
    const removed = b.kernel.removeLeftovers();
    return { ours: Number(ours), before, removed, states: await states(b), policies: await policies(b) };
  });

  await driver.check('esp-on-the-wire', async (): Promise<EspPacket[]> => {
    const file = capture?.file ?? '';
    await capture?.stop();
    const fields = await run('tshark', ['-r', file, '-Y', 'esp', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto', '-e', 'udp.dstport', '-e', 'esp.spi'], { timeoutMs: 120_000 });
    if (!fields.ok) throw new Error(describeFailure(fields));
    return fields.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [src = '', dst = '', proto = '', udpDstPort = '', spi = ''] = line.split('\t');
        return { src, dst, proto, udpDstPort, spi };
      });
  });
} finally {
  await capture?.stop();
  for (const side of sides) side.kernel.close();
  await lab?.destroy();
}
driver.finish();

function refusal(e: unknown): RefusalReport {
  return {
    isKernelError: e instanceof KernelError,
    code: e instanceof KernelError ? e.code : undefined,
    errno: e instanceof KernelError ? e.errno : undefined,
    message: e instanceof Error ? e.message : String(e),
  };
}

async function refusalOf(call: () => Promise<unknown>): Promise<RefusalReport> {
  try {
    await call();
  } catch (e) {
    return refusal(e);
  }
  throw new Error('the call succeeded');
}
