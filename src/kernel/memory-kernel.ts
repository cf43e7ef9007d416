/**
 * A kernel that lives in memory: the backend for tests, the demo and `ikekm status` without root.
 * It keeps the SAs and policies a Child SA machine installs with the same identity rules as
 * Linux XFRM: an SA is identified by (destination, SPI) (RFC 4301 4.1: the SPI with the
 * destination address and protocol; only ESP here), a policy by its selectors and direction.
 * Byte counters move only when a test says traffic flowed (`addTraffic`), which is how tests
 * drive byte lifetimes (RFC 7296 2.8).
 *
 * Keys are kept as given (the Buffers the caller passed). `toJSON()` and `util.inspect` show the
 * state with every key replaced, so printing the kernel never prints a key.
 */
import { inspect } from 'node:util';
import { REDACTED } from '../log/secret-fields.js';
import { formatIp, parseIp } from '../wire/ip-address.js';
import { KernelError } from './kernel-error.js';
import type { KernelPolicy, KernelPort, KernelSa, SaUsage, TrafficSelectorRange } from './kernel-port.js';

export type InstalledSa = KernelSa & { readonly usage: SaUsage };

/** The kernel state as `toJSON` shows it: everything but the keys. */
export interface MemoryKernelState {
  readonly sas: readonly RedactedSa[];
  readonly policies: readonly KernelPolicy[];
}

export type RedactedSa = Omit<InstalledSa, 'encryption' | 'integrity'> & {
  readonly encryption: Omit<KernelSa['encryption'], 'key'> & { readonly key: typeof REDACTED };
  readonly integrity?: Omit<NonNullable<KernelSa['integrity']>, 'key'> & { readonly key: typeof REDACTED };
};

interface SaEntry {
  readonly sa: KernelSa;
  bytes: number;
  packets: number;
}

export class MemoryKernel implements KernelPort {
  private readonly installedSas = new Map<string, SaEntry>();
  private readonly installedPolicies = new Map<string, KernelPolicy>();

  async installSa(sa: KernelSa): Promise<void> {
    if (familyOf(sa.source, 'source') !== familyOf(sa.destination, 'destination')) {
      throw new KernelError('invalid', `SA source ${sa.source} and destination ${sa.destination} are of different families`);
    }
    const key = saKey(sa.destination, sa.spi);
    if (this.installedSas.has(key)) throw new KernelError('exists', `an SA for ${sa.destination} SPI ${spiHex(sa.spi)} is installed`);
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
  }

  async deletePolicy(policy: KernelPolicy): Promise<void> {
    const key = policyKey(policy);
    if (!this.installedPolicies.delete(key)) throw new KernelError('not-found', `no policy ${key}`);
  }

  async usage(destination: string, spi: number): Promise<SaUsage | undefined> {
    const entry = this.installedSas.get(saKey(destination, spi));
    return entry === undefined ? undefined : { bytes: entry.bytes, packets: entry.packets };
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

  /** The installed SAs with their usage, keys included (for tests; use toJSON to display). */
  sas(): InstalledSa[] {
    return [...this.installedSas.values()].map(({ sa, bytes, packets }) => ({ ...sa, usage: { bytes, packets } }));
  }

  policies(): KernelPolicy[] {
    return [...this.installedPolicies.values()];
  }

  toJSON(): MemoryKernelState {
    return { sas: this.sas().map(redactKeys), policies: this.policies() };
  }

  [inspect.custom](): MemoryKernelState {
    return this.toJSON();
  }

  private entry(destination: string, spi: number): SaEntry {
    const entry = this.installedSas.get(saKey(destination, spi));
    if (entry === undefined) throw new KernelError('not-found', `no SA for ${destination} SPI ${spiHex(spi)}`);
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

const spiHex = (spi: number): string => `0x${spi.toString(16).padStart(8, '0')}`;

/** IPv4 or IPv6 of an address literal; a KernelError('invalid') for anything else. */
function familyOf(address: string, what: string): 4 | 6 {
  const octets = parseIp(address);
  if (octets === undefined) throw new KernelError('invalid', `${what} is not an IP address: ${JSON.stringify(address)}`);
  return octets.length === 4 ? 4 : 6;
}

/** Canonical text, so '2001:db8::1' and '2001:0db8:0:0::1' name the same SA. */
function canonical(address: string, what: string): string {
  const octets = parseIp(address);
  if (octets === undefined) throw new KernelError('invalid', `${what} is not an IP address: ${JSON.stringify(address)}`);
  return formatIp(octets);
}

function saKey(destination: string, spi: number): string {
  // RFC 4303 2.1: SPI 0 is reserved and never appears on the wire.
  if (!Number.isInteger(spi) || spi < 1 || spi > 0xffffffff) throw new KernelError('invalid', `ESP SPI out of range: ${spi}`);
  return `${canonical(destination, 'destination')} esp ${spiHex(spi)}`;
}

function rangeKey(range: TrafficSelectorRange, what: string): string {
  return `${canonical(range.startAddress, what)}-${canonical(range.endAddress, what)}[${range.startPort}-${range.endPort}]`;
}

/** XFRM identifies a policy by its selector and direction: two connections cannot claim the same traffic. */
function policyKey(policy: KernelPolicy): string {
  return `${policy.direction} proto ${policy.local.ipProtocol}/${policy.remote.ipProtocol} ${rangeKey(policy.local, 'local selector')} ${rangeKey(policy.remote, 'remote selector')}`;
}
