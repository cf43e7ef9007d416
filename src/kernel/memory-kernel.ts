/**
 * A kernel that lives in memory: the backend for tests, the demo and `ikekm status` without root.
 * It keeps the SAs and policies a Child SA machine installs with the same identity rules as
 * Linux XFRM: an SA is identified by (destination, SPI) (RFC 4301 4.1: the SPI with the
 * destination address and protocol; only ESP here), a policy by its selectors and direction.
 * Byte counters move only when a test says traffic flowed (`addTraffic`), which is how tests
 * drive byte lifetimes (RFC 7296 2.8); likewise a policy has never been used (`policyLastUse`
 * answers undefined) until a test says when it was (`markPolicyUsed`).
 *
 * Keys are kept as given (the Buffers the caller passed). `toJSON()` and `util.inspect` show the
 * state with every key replaced, so printing the kernel never prints a key.
 *
 * Traps (on-demand connections) and acquires: `simulateTraffic(packet)` stands in for a packet the
 * host is about to send, and looks it up as XFRM's outbound policy lookup does:
 * - candidates are the installed 'out' policies and the traps whose selectors contain the packet
 *   (addresses, protocol unless 0 = any, ports unless 0-65535 = any; OPAQUE matches only a packet
 *   without ports, RFC 7296 3.13.1);
 * - the most specific candidate wins. XFRM itself picks the lowest priority value; strongSwan
 *   derives that priority from the selectors (narrower addresses, then a given protocol, then
 *   narrower ports come first) and puts trap policies below installed ones, which is what the
 *   ranking here reproduces; at a full tie the first installed wins, as in XFRM;
 * - a winning policy whose outbound SA (its reqid towards its tunnel destination) is installed
 *   protects the packet; a winning trap, or a policy whose SA is gone, raises an acquire, as
 *   XFRM does when a template cannot be resolved; no candidate means no IPsec (sent in the clear).
 * Unlike XFRM there is no larval SA holding back further acquires for the same selector
 * (xfrm_acq_expires): every matching packet raises one, so the key manager's own guard is what
 * tests see.
 */
import { inspect } from 'node:util';
import { REDACTED } from '../crypto/redacted.js';
import { canonicalIp, parseIp } from '../wire/ip-address.js';
import { espSpiHex } from '../wire/spi-text.js';
import { KernelError } from './kernel-error.js';
import type {
  KernelAcquire,
  KernelPacket,
  KernelPolicy,
  KernelUsage,
  KernelSa,
  KernelTrap,
  SaUsage,
  TrafficSelectorRange,
  TrappingKernelPort,
} from './kernel-port.js';

export type InstalledSa = KernelSa & { readonly usage: SaUsage };

/** The kernel state as `toJSON` shows it: everything but the keys. */
export interface MemoryKernelState {
  readonly sas: readonly RedactedSa[];
  readonly policies: readonly KernelPolicy[];
  readonly traps: readonly KernelTrap[];
}

/** What the kernel did with a simulated outbound packet. */
export type TrafficVerdict =
  /** A policy with an installed outbound SA matched: the packet goes into that SA. */
  | { readonly kind: 'protected'; readonly policy: KernelPolicy; readonly spi: number }
  /** A trap (or a policy whose SA is missing) matched: the listeners got this acquire. */
  | { readonly kind: 'acquire'; readonly acquire: KernelAcquire }
  /** Nothing matched: no IPsec for this packet. */
  | { readonly kind: 'no-policy' };

export type RedactedSa = Omit<InstalledSa, 'encryption' | 'integrity'> & {
  readonly encryption: Omit<KernelSa['encryption'], 'key'> & { readonly key: typeof REDACTED };
  readonly integrity?: Omit<NonNullable<KernelSa['integrity']>, 'key'> & { readonly key: typeof REDACTED };
};

interface SaEntry {
  readonly sa: KernelSa;
  bytes: number;
  packets: number;
}

export class MemoryKernel implements TrappingKernelPort {
  private readonly installedSas = new Map<string, SaEntry>();
  private readonly installedPolicies = new Map<string, KernelPolicy>();
  /** Policy key → when a test said traffic last used it (ms since the epoch). */
  private readonly policyUses = new Map<string, number>();
  private readonly installedTraps = new Map<string, KernelTrap>();
  private readonly acquireListeners = new Set<(acquire: KernelAcquire) => void>();
  /** Install order of policies and traps together: the last tie-break, as in XFRM. */
  private readonly installOrder = new Map<KernelPolicy | KernelTrap, number>();
  private installCount = 0;

  async installSa(sa: KernelSa): Promise<void> {
    if (familyOf(sa.source, 'source') !== familyOf(sa.destination, 'destination')) {
      throw new KernelError('invalid', `SA source ${sa.source} and destination ${sa.destination} are of different families`);
    }
    const key = saKey(sa.destination, sa.spi);
    if (this.installedSas.has(key)) throw new KernelError('exists', `an SA for ${sa.destination} SPI 0x${espSpiHex(sa.spi)} is installed`);
    this.installedSas.set(key, { sa, bytes: 0, packets: 0 });
  }

  async deleteSa(destination: string, spi: number): Promise<void> {
    this.entry(destination, spi); // throws not-found
    this.installedSas.delete(saKey(destination, spi));
  }

  async installPolicy(policy: KernelPolicy): Promise<void> {
    familyOf(policy.tunnelSource, 'tunnel source');
    familyOf(policy.tunnelDestination, 'tunnel destination');
    const key = policyKey(policy);
    if (this.installedPolicies.has(key)) throw new KernelError('exists', `a policy ${key} is installed`);
    this.installedPolicies.set(key, policy);
    this.installOrder.set(policy, ++this.installCount);
    this.policyUses.delete(key); // a new policy starts unused, as in XFRM
  }

  async deletePolicy(policy: KernelPolicy): Promise<void> {
    const key = policyKey(policy);
    const installed = this.installedPolicies.get(key);
    if (installed === undefined) throw new KernelError('not-found', `no policy ${key}`);
    this.installedPolicies.delete(key);
    this.installOrder.delete(installed);
    this.policyUses.delete(key);
  }

  /**
   * Traps live beside the SA policies rather than in their table: strongSwan keeps a trap and the
   * Child SA's policy for the same selectors side by side (the installed one at a higher
   * priority), so a Child SA negotiated for exactly the configured selectors must not collide
   * with its own trap.
   */
  async installTrap(trap: KernelTrap): Promise<void> {
    familyOf(trap.tunnelSource, 'tunnel source');
    familyOf(trap.tunnelDestination, 'tunnel destination');
    const key = trapKey(trap);
    if (this.installedTraps.has(key)) throw new KernelError('exists', `a trap ${key} is installed`);
    this.installedTraps.set(key, trap);
    this.installOrder.set(trap, ++this.installCount);
  }

  async deleteTrap(trap: KernelTrap): Promise<void> {
    const key = trapKey(trap);
    const installed = this.installedTraps.get(key);
    if (installed === undefined) throw new KernelError('not-found', `no trap ${key}`);
    this.installedTraps.delete(key);
    this.installOrder.delete(installed);
  }

  onAcquire(listener: (acquire: KernelAcquire) => void): () => void {
    // Wrapped, so the same function registered twice is two listeners with two unsubscribes.
    const registered = (acquire: KernelAcquire): void => listener(acquire);
    this.acquireListeners.add(registered);
    return () => {
      this.acquireListeners.delete(registered);
    };
  }

  /**
   * Test hook: the host is about to send `packet`. Looks it up as described at the top of this
   * file; an acquire goes to every listener before this returns.
   */
  simulateTraffic(packet: KernelPacket): TrafficVerdict {
    const parsed = parsePacket(packet);
    let best: { entry: KernelPolicy | KernelTrap; isTrap: boolean; rank: readonly number[] } | undefined;
    const consider = (entry: KernelPolicy | KernelTrap, isTrap: boolean): void => {
      if (!packetMatches(parsed, entry.local, entry.remote)) return;
      const rank = [...specificity(entry.local, entry.remote), isTrap ? 1 : 0, this.installOrder.get(entry) ?? 0];
      if (best === undefined || compareRanks(rank, best.rank) < 0) best = { entry, isTrap, rank };
    };
    for (const policy of this.installedPolicies.values()) if (policy.direction === 'out') consider(policy, false);
    for (const trap of this.installedTraps.values()) consider(trap, true);
    const winner: { entry: KernelPolicy | KernelTrap; isTrap: boolean } | undefined = best;
    if (winner === undefined) return { kind: 'no-policy' };
    if (!winner.isTrap) {
      const policy = winner.entry as KernelPolicy;
      const sa = this.outboundSaFor(policy);
      if (sa !== undefined) return { kind: 'protected', policy, spi: sa.spi };
    }
    const { connection, reqid, local, remote } = winner.entry;
    const acquire: KernelAcquire = { connection, reqid, packet: { ...packet }, local, remote };
    for (const listener of [...this.acquireListeners]) listener(acquire);
    return { kind: 'acquire', acquire };
  }

  async usage(destination: string, spi: number): Promise<SaUsage | undefined> {
    const entry = this.installedSas.get(saKey(destination, spi));
    return entry === undefined ? undefined : { bytes: entry.bytes, packets: entry.packets };
  }

  /** usage() and policyLastUse() of everything, answered from the kernel's tables as they are when asked. */
  async readUsage(): Promise<KernelUsage> {
    const sa = (destination: string, spi: number): SaUsage | undefined => {
      const entry = this.installedSas.get(saKeyOrUndefined(destination, spi) ?? '');
      return entry === undefined ? undefined : { bytes: entry.bytes, packets: entry.packets };
    };
    // No policy marked used (every run but a few tests): nothing to look up for each Child SA.
    if (this.policyUses.size === 0) return { sa };
    return { sa, policyLastUse: (policy) => this.policyUses.get(policyKey(policy)) };
  }

  /** Never used unless a test said so (markPolicyUsed); undefined for a policy not installed. */
  async policyLastUse(policy: KernelPolicy): Promise<number | undefined> {
    // No policy marked used (every run but a few tests): no key to build, for each policy of a status.
    return this.policyUses.size === 0 ? undefined : this.policyUses.get(policyKey(policy));
  }

  /** Test hook: pretend traffic used the installed `policy` at `atMs` (ms since the epoch). */
  markPolicyUsed(policy: KernelPolicy, atMs: number): void {
    const key = policyKey(policy);
    if (!this.installedPolicies.has(key)) throw new KernelError('not-found', `no policy ${key}`);
    this.policyUses.set(key, atMs);
  }

  /** Test hook: pretend `bytes` in `packets` went through the SA; returns the new totals. */
  addTraffic(destination: string, spi: number, bytes: number, packets = 1): SaUsage {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || !Number.isSafeInteger(packets) || packets < 0) {
      throw new KernelError('invalid', `traffic must be non-negative integers, not ${bytes} bytes / ${packets} packets`);
    }
    const entry = this.entry(destination, spi);
    entry.bytes += bytes;
    entry.packets += packets;
    return { bytes: entry.bytes, packets: entry.packets };
  }

  /**
   * Removes every SA, policy and trap, as the XFRM backend removes ikekm's at close: what a
   * daemon stopping with SAs still up leaves (IkeEngine.stop with leaveKernelState).
   */
  removeAll(): { sas: number; policies: number; traps: number } {
    const removed = { sas: this.installedSas.size, policies: this.installedPolicies.size, traps: this.installedTraps.size };
    this.installedSas.clear();
    this.installedPolicies.clear();
    this.policyUses.clear();
    this.installedTraps.clear();
    this.installOrder.clear();
    return removed;
  }

  /** The installed SAs with their usage, keys included (for tests; use toJSON to display). */
  sas(): InstalledSa[] {
    return [...this.installedSas.values()].map(({ sa, bytes, packets }) => ({ ...sa, usage: { bytes, packets } }));
  }

  policies(): KernelPolicy[] {
    return [...this.installedPolicies.values()];
  }

  traps(): KernelTrap[] {
    return [...this.installedTraps.values()];
  }

  toJSON(): MemoryKernelState {
    return { sas: this.sas().map(redactKeys), policies: this.policies(), traps: this.traps() };
  }

  [inspect.custom](): MemoryKernelState {
    return this.toJSON();
  }

  /** XFRM resolves a template by reqid and tunnel endpoints: the outbound SA of that Child SA. */
  private outboundSaFor(policy: KernelPolicy): KernelSa | undefined {
    const destination = canonical(policy.tunnelDestination, 'tunnel destination');
    for (const { sa } of this.installedSas.values()) {
      if (sa.direction === 'out' && sa.reqid === policy.reqid && canonical(sa.destination, 'destination') === destination) return sa;
    }
    return undefined;
  }

  private entry(destination: string, spi: number): SaEntry {
    const entry = this.installedSas.get(saKey(destination, spi));
    if (entry === undefined) throw new KernelError('not-found', `no SA for ${destination} SPI 0x${espSpiHex(spi)}`);
    return entry;
  }
}

function redactKeys(sa: InstalledSa): RedactedSa {
  const { integrity, ...rest } = sa;
  return {
    ...rest,
    encryption: { ...sa.encryption, key: REDACTED },
    ...(integrity === undefined ? {} : { integrity: { ...integrity, key: REDACTED } }),
  };
}

/** IPv4 or IPv6 of an address literal; a KernelError('invalid') for anything else. */
function familyOf(address: string, what: string): 4 | 6 {
  const octets = parseIp(address);
  if (octets === undefined) throw new KernelError('invalid', `${what} is not an IP address: ${JSON.stringify(address)}`);
  return octets.length === 4 ? 4 : 6;
}

/** Canonical text, so '2001:db8::1' and '2001:0db8:0:0::1' name the same SA. */
function canonical(address: string, what: string): string {
  const text = canonicalIp(address);
  if (text === undefined) throw new KernelError('invalid', `${what} is not an IP address: ${JSON.stringify(address)}`);
  return text;
}

function saKey(destination: string, spi: number): string {
  // RFC 4303 2.1: SPI 0 is reserved and never appears on the wire.
  if (!Number.isInteger(spi) || spi < 1 || spi > 0xffffffff) throw new KernelError('invalid', `ESP SPI out of range: ${spi}`);
  return `${canonical(destination, 'destination')} esp 0x${espSpiHex(spi)}`;
}

/** saKey, or undefined where it would refuse the address or SPI (usage() then answers undefined). */
function saKeyOrUndefined(destination: string, spi: number): string | undefined {
  try {
    return saKey(destination, spi);
  } catch {
    return undefined;
  }
}

function rangeKey(range: TrafficSelectorRange, what: string): string {
  return `${canonical(range.startAddress, what)}-${canonical(range.endAddress, what)}[${range.startPort}-${range.endPort}]`;
}

/** XFRM identifies a policy by its selector and direction: two connections cannot claim the same traffic. */
function policyKey(policy: KernelPolicy): string {
  return `${policy.direction} proto ${policy.local.ipProtocol}/${policy.remote.ipProtocol} ${rangeKey(policy.local, 'local selector')} ${rangeKey(policy.remote, 'remote selector')}`;
}

function trapKey(trap: KernelTrap): string {
  return `trap proto ${trap.local.ipProtocol}/${trap.remote.ipProtocol} ${rangeKey(trap.local, 'local selector')} ${rangeKey(trap.remote, 'remote selector')}`;
}

const MAX_PORT = 0xffff;

interface ParsedPacket {
  readonly source: { readonly family: 4 | 6; readonly value: bigint };
  readonly destination: { readonly family: 4 | 6; readonly value: bigint };
  readonly ipProtocol: number;
  readonly sourcePort: number | undefined;
  readonly destinationPort: number | undefined;
}

function addressValue(address: string, what: string): { family: 4 | 6; value: bigint } {
  const octets = parseIp(address);
  if (octets === undefined) throw new KernelError('invalid', `${what} is not an IP address: ${JSON.stringify(address)}`);
  return { family: octets.length === 4 ? 4 : 6, value: BigInt(`0x${octets.toString('hex')}`) };
}

function parsePacket(packet: KernelPacket): ParsedPacket {
  const source = addressValue(packet.source, 'packet source');
  const destination = addressValue(packet.destination, 'packet destination');
  if (source.family !== destination.family) throw new KernelError('invalid', `packet source ${packet.source} and destination ${packet.destination} are of different families`);
  if (!Number.isInteger(packet.ipProtocol) || packet.ipProtocol < 0 || packet.ipProtocol > 255) throw new KernelError('invalid', `IP protocol out of range: ${packet.ipProtocol}`);
  for (const port of [packet.sourcePort, packet.destinationPort]) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > MAX_PORT)) throw new KernelError('invalid', `port out of range: ${port}`);
  }
  return { source, destination, ipProtocol: packet.ipProtocol, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort };
}

function addressInRange(address: { family: 4 | 6; value: bigint }, range: TrafficSelectorRange): boolean {
  const start = addressValue(range.startAddress, 'selector start');
  const end = addressValue(range.endAddress, 'selector end');
  return start.family === address.family && start.value <= address.value && address.value <= end.value;
}

/** RFC 7296 3.13.1: 0-65535 is any port; 65535-0 (OPAQUE) is "no port available". */
function portInRange(port: number | undefined, range: TrafficSelectorRange): boolean {
  if (range.startPort === 0 && range.endPort === MAX_PORT) return true;
  if (range.startPort === MAX_PORT && range.endPort === 0) return port === undefined;
  return port !== undefined && range.startPort <= port && port <= range.endPort;
}

const protocolMatches = (ipProtocol: number, range: TrafficSelectorRange): boolean => range.ipProtocol === 0 || range.ipProtocol === ipProtocol;

/** Outbound: the packet's source is in our (local) selector, its destination in the peer's. */
function packetMatches(packet: ParsedPacket, local: TrafficSelectorRange, remote: TrafficSelectorRange): boolean {
  return (
    addressInRange(packet.source, local) &&
    addressInRange(packet.destination, remote) &&
    protocolMatches(packet.ipProtocol, local) &&
    protocolMatches(packet.ipProtocol, remote) &&
    portInRange(packet.sourcePort, local) &&
    portInRange(packet.destinationPort, remote)
  );
}

/** Host bits a range leaves open (0 for one address, 8 for a /24): fewer is more specific. */
function addressWidth(range: TrafficSelectorRange): number {
  const span = addressValue(range.endAddress, 'selector end').value - addressValue(range.startAddress, 'selector start').value;
  return span <= 0n ? 0 : span.toString(2).length;
}

function portWidth(range: TrafficSelectorRange): number {
  const span = range.endPort - range.startPort;
  return span <= 0 ? 0 : span.toString(2).length;
}

/** strongSwan's priority order: addresses first, then a given protocol, then ports. Lower wins. */
function specificity(local: TrafficSelectorRange, remote: TrafficSelectorRange): number[] {
  const anyProtocol = local.ipProtocol === 0 && remote.ipProtocol === 0 ? 1 : 0;
  return [addressWidth(local) + addressWidth(remote), anyProtocol, portWidth(local) + portWidth(remote)];
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
