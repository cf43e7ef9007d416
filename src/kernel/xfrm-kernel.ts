/**
 * The Linux XFRM backend: ikekm's SAs and policies in the kernel, through NETLINK_XFRM (no
 * process per operation). Inbound SPIs come from XFRM_MSG_ALLOCSPI (the kernel keeps them unique
 * and holds a larval SA for each until it is filled in with XFRM_MSG_UPDSA); the kernel enforces
 * the byte limits and reports them (XFRM_MSG_EXPIRE), and reports packets that hit a trap
 * (XFRM_MSG_ACQUIRE). Requests and events use separate sockets, as strongSwan's kernel-netlink
 * does, so an event never interleaves with an answer.
 *
 * Traps and the Child SAs they bring up share their outbound policy: a trap is an outbound policy
 * whose template names the connection's reqid, which is exactly the policy the Child SA would
 * install. Installing the Child SA's policy over the trap finds it there (EEXIST, which the
 * engine takes as a shared policy), and deleting the Child SA's outbound policy leaves it in
 * place while the trap is configured, so the next packet brings the SA back.
 */
import { endianness } from 'node:os';
import { KernelError, isKernelError } from './kernel-error.js';
import { XfrmAnswer, type XfrmAnswerKind } from './xfrm-answer.js';
import type {
  KernelAcquire,
  KernelPacket,
  KernelPolicy,
  KernelSa,
  KernelSaExpire,
  KernelTrap,
  KernelUsage,
  SaUsage,
  SpiAllocator,
  TrappingKernelPort,
} from './kernel-port.js';
import { NETLINK_XFRM } from './netlink/libc.js';
import { NetlinkSocket, NetlinkSocketError } from './netlink/netlink-socket.js';
import { setEspInUdp, setSocketPolicy, udpSocketFd, type UdpSocketAddress } from './netlink/udp-socket-options.js';
import {
  XfrmMulticastGroup,
  allocSpiRequest,
  decodeNetlinkMessages,
  decodeXfrmMessage,
  deletePolicyRequest,
  deleteSaRequest,
  dumpPoliciesRequest,
  dumpSasRequest,
  getPolicyRequest,
  getSaRequest,
  kernelErrorFromErrno,
  newPolicyRequest,
  newSaRequest,
  socketBypassPolicy,
  xfrmHostUnsupportedReason,
  type XfrmEvent,
  type XfrmPolicyState,
  type XfrmSaState,
  type XfrmSelector,
} from './xfrm/index.js';
import { familyOf, policySpec, saSpec, selectorSpec } from './xfrm-specs.js';
import { xfrmUsageTable } from './xfrm-usage-table.js';

/** SPIs we ask the kernel for: RFC 4303 2.1 reserves 1..255; the top bit set, as strongSwan's are, tells ours at a glance. */
const SPI_MIN = 0xc000_0000;
const SPI_MAX = 0xcfff_ffff;

const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;
const trapKey = (t: Pick<KernelTrap, 'local' | 'remote'>): string => JSON.stringify(selectorSpec('out', t.local, t.remote));

export interface XfrmKernelOptions {
  /** Which reqids are ikekm's (its SAs and policies, left behind by a crash, are removed at start). */
  readonly ownsReqid: (reqid: number) => boolean;
}

export class XfrmKernel implements TrappingKernelPort {
  private seq = 1;
  /** Inbound SPIs from ALLOCSPI whose SA is still larval: installed with UPDSA, released with DELSA. */
  private readonly larval = new Set<string>();
  private readonly traps = new Map<string, KernelTrap>();
  private readonly acquireListeners = new Set<(acquire: KernelAcquire) => void>();
  private readonly expireListeners = new Set<(expire: KernelSaExpire) => void>();
  private readonly stopListening: () => void;

  readonly spis: SpiAllocator = {
    allocate: async (sa) => this.allocateSpi(sa.source, sa.destination),
    release: async (spi, destination) => this.releaseSpi(spi, destination),
  };

  private constructor(
    private readonly requests: NetlinkSocket,
    private readonly events: NetlinkSocket,
    private readonly options: XfrmKernelOptions,
  ) {
    this.stopListening = events.listen((datagram) => this.onEventDatagram(datagram));
  }

  /**
   * Opens the sockets. Without CAP_NET_ADMIN the kernel refuses the first request: that is
   * checked here, so the daemon can refuse to start with one clear line.
   */
  static open(options: XfrmKernelOptions): XfrmKernel {
    const unsupported = xfrmHostUnsupportedReason(process.arch, endianness());
    if (unsupported !== undefined) throw new KernelError('failed', unsupported);
    let requests: NetlinkSocket;
    let events: NetlinkSocket;
    try {
      requests = NetlinkSocket.open(NETLINK_XFRM);
      events = NetlinkSocket.open(NETLINK_XFRM, (1 << (XfrmMulticastGroup.ACQUIRE - 1)) | (1 << (XfrmMulticastGroup.EXPIRE - 1)));
    } catch (e) {
      throw asKernelError(e, 'opening the XFRM netlink socket');
    }
    const kernel = new XfrmKernel(requests, events, options);
    try {
      kernel.request(dumpPoliciesRequest(kernel.nextSeq()), 'dump', 'listing XFRM policies');
    } catch (e) {
      kernel.close();
      throw e;
    }
    return kernel;
  }

  close(): void {
    this.stopListening();
    this.requests.close();
    this.events.close();
  }

  // ---- KernelPort ----

  async installSa(sa: KernelSa): Promise<void> {
    const key = saKey(sa.destination, sa.spi);
    const spec = saSpec(sa);
    const what = `installing ESP SA ${hex(sa.spi)} to ${sa.destination}`;
    if (sa.direction === 'in' && this.larval.has(key)) {
      try {
        this.request(newSaRequest(this.nextSeq(), spec, { update: true }), 'ack', what);
        this.larval.delete(key);
        return;
      } catch (e) {
        // The kernel keeps a larval SA net.core.xfrm_acq_expires seconds (30 by default): after a
        // slower exchange it is gone (ESRCH), and the SA is added as a new one, as strongSwan does.
        if (!isKernelError(e, 'not-found')) throw e;
        this.larval.delete(key);
      }
    }
    this.request(newSaRequest(this.nextSeq(), spec, { update: false }), 'ack', what);
  }

  async deleteSa(destination: string, spi: number): Promise<void> {
    this.larval.delete(saKey(destination, spi));
    this.request(deleteSaRequest(this.nextSeq(), { family: familyOf(destination), destination, spi, protocol: 'esp' }), 'ack', `deleting ESP SA ${hex(spi)} to ${destination}`);
  }

  async installPolicy(policy: KernelPolicy): Promise<void> {
    this.request(newPolicyRequest(this.nextSeq(), policySpec(policy), { update: false }), 'ack', `installing the ${policy.direction} policy of ${policy.connection}`);
  }

  async deletePolicy(policy: KernelPolicy): Promise<void> {
    // The outbound policy of a trapped connection stays: it is the trap.
    if (policy.direction === 'out' && this.traps.has(trapKey(policy))) return;
    const spec = policySpec(policy);
    this.request(deletePolicyRequest(this.nextSeq(), { direction: spec.direction, selector: spec.selector }), 'ack', `deleting the ${policy.direction} policy of ${policy.connection}`);
  }

  async usage(destination: string, spi: number): Promise<SaUsage | undefined> {
    try {
      const answer = this.request(getSaRequest(this.nextSeq(), { family: familyOf(destination), destination, spi, protocol: 'esp' }), 'reply', `reading ESP SA ${hex(spi)}`);
      const sa = answer.find((e) => e.kind === 'sa');
      return sa?.kind === 'sa' ? { bytes: sa.sa.usage.bytes, packets: sa.sa.usage.packets } : undefined;
    } catch (e) {
      if (isKernelError(e, 'not-found')) return undefined;
      throw e;
    }
  }

  async policyLastUse(policy: KernelPolicy): Promise<number | undefined> {
    const spec = policySpec(policy);
    try {
      const answer = this.request(getPolicyRequest(this.nextSeq(), { direction: spec.direction, selector: spec.selector }), 'reply', `reading the ${policy.direction} policy of ${policy.connection}`);
      const found = answer.find((e) => e.kind === 'policy');
      // use_time 0: not used since it was added.
      return found?.kind === 'policy' && found.policy.usage.useTime !== 0 ? found.policy.usage.useTime * 1000 : undefined;
    } catch (e) {
      if (isKernelError(e, 'not-found')) return undefined;
      throw e;
    }
  }

  /**
   * Every SA's counters and every policy's last use in two dumps, XFRM_MSG_GETSA and
   * XFRM_MSG_GETPOLICY with NLM_F_DUMP (xfrm-usage-table.ts), for a status of every Child SA:
   * not a GETSA per ESP SA and a GETPOLICY per policy.
   */
  async readUsage(): Promise<KernelUsage> {
    const sas: XfrmSaState[] = [];
    for (const e of this.request(dumpSasRequest(this.nextSeq()), 'dump', 'listing XFRM states')) if (e.kind === 'sa') sas.push(e.sa);
    const policies: XfrmPolicyState[] = [];
    for (const e of this.request(dumpPoliciesRequest(this.nextSeq()), 'dump', 'listing XFRM policies')) if (e.kind === 'policy') policies.push(e.policy);
    return xfrmUsageTable(sas, policies);
  }

  onExpire(listener: (expire: KernelSaExpire) => void): () => void {
    this.expireListeners.add(listener);
    return () => this.expireListeners.delete(listener);
  }

  // ---- KernelTrapPort ----

  async installTrap(trap: KernelTrap): Promise<void> {
    const key = trapKey(trap);
    if (this.traps.has(key)) throw new KernelError('exists', `a trap for these selectors is installed (${trap.connection})`);
    try {
      this.request(newPolicyRequest(this.nextSeq(), policySpec({ ...trap, direction: 'out' }), { update: false }), 'ack', `installing the trap of ${trap.connection}`);
    } catch (e) {
      // The connection's Child SA is up and its outbound policy is the trap already.
      if (!isKernelError(e, 'exists')) throw e;
    }
    this.traps.set(key, trap);
  }

  async deleteTrap(trap: KernelTrap): Promise<void> {
    const key = trapKey(trap);
    if (!this.traps.delete(key)) throw new KernelError('not-found', `no trap for these selectors (${trap.connection})`);
    const spec = policySpec({ ...trap, direction: 'out' });
    try {
      this.request(deletePolicyRequest(this.nextSeq(), { direction: 'out', selector: spec.selector }), 'ack', `deleting the trap of ${trap.connection}`);
    } catch (e) {
      if (!isKernelError(e, 'not-found')) throw e;
    }
  }

  onAcquire(listener: (acquire: KernelAcquire) => void): () => void {
    this.acquireListeners.add(listener);
    return () => this.acquireListeners.delete(listener);
  }

  // ---- IKE sockets and the leftovers of a crash ----

  /**
   * Lets ikekm's own IKE traffic bypass IPsec (a per-socket policy in each direction) and, on the
   * NAT-T socket, has the kernel take ESP-in-UDP off it (RFC 3948).
   */
  protectIkeSocket(socket: UdpSocketAddress & { readonly role: 'ike' | 'natt' }): void {
    const fd = udpSocketFd(socket);
    if (fd === undefined) throw new KernelError('not-found', `no UDP socket bound to ${socket.address}:${socket.port}`);
    const family = socket.family === 'IPv6' ? 6 : 4;
    try {
      setSocketPolicy(fd, socket.family, socketBypassPolicy('in', family));
      setSocketPolicy(fd, socket.family, socketBypassPolicy('out', family));
      if (socket.role === 'natt') setEspInUdp(fd);
    } catch (e) {
      throw asKernelError(e, `setting the IPsec bypass on ${socket.address}:${socket.port}`);
    }
  }

  /**
   * Removes every SA and policy with one of ikekm's reqids (what a killed daemon left, or what a
   * stopping one missed); returns how many.
   */
  removeLeftovers(): { sas: number; policies: number } {
    let sas = 0;
    let policies = 0;
    for (const e of this.request(dumpSasRequest(this.nextSeq()), 'dump', 'listing XFRM states')) {
      if (e.kind !== 'sa' || !this.options.ownsReqid(e.sa.reqid)) continue;
      if (this.removeSa(e.sa)) sas++;
    }
    for (const e of this.request(dumpPoliciesRequest(this.nextSeq()), 'dump', 'listing XFRM policies')) {
      // A socket's own policy goes with its socket (DELPOLICY cannot name it).
      if (e.kind !== 'policy' || e.policy.socket || !e.policy.templates.some((t) => this.options.ownsReqid(t.reqid))) continue;
      const p = e.policy;
      this.tryRequest(deletePolicyRequest(this.nextSeq(), { direction: p.direction, selector: { ...p.selector } }), 'removing a leftover policy');
      policies++;
    }
    return { sas, policies };
  }

  // ---- internals ----

  /** Deletes one SA of a dump; false when it was gone already. */
  private removeSa(s: XfrmSaState): boolean {
    let spi = s.spi;
    if (spi === 0) {
      // The larval SA of an acquire nobody answered: the kernel finds SAs by SPI only, so it
      // gets one first (ALLOCSPI names it by the acquire's seq), else it would hold the
      // trap's traffic until xfrm_acq_expires.
      if (s.mode !== 'tunnel' && s.mode !== 'transport') return false;
      try {
        const answer = this.request(
          allocSpiRequest(this.nextSeq(), { family: s.family, source: s.source, destination: s.destination, reqid: s.reqid, mode: s.mode, min: SPI_MIN, max: SPI_MAX, acquireSeq: s.seq }),
          'reply',
          "naming an unanswered acquire's larval SA",
        );
        const named = answer.find((e) => e.kind === 'sa');
        if (named?.kind !== 'sa') return false;
        spi = named.sa.spi;
      } catch (e) {
        if (isKernelError(e, 'not-found')) return false;
        throw e;
      }
    }
    return this.tryRequest(deleteSaRequest(this.nextSeq(), { family: s.family, destination: s.destination, spi, protocol: 'esp' }), `removing a leftover SA ${hex(spi)}`);
  }

  private allocateSpi(source: string, destination: string): number {
    const answer = this.request(
      allocSpiRequest(this.nextSeq(), { family: familyOf(destination), source, destination, reqid: 0, mode: 'tunnel', min: SPI_MIN, max: SPI_MAX }),
      'reply',
      `allocating an inbound SPI from ${source}`,
    );
    const sa = answer.find((e) => e.kind === 'sa');
    if (sa?.kind !== 'sa') throw new KernelError('failed', 'ALLOCSPI answered without an SA');
    this.larval.add(saKey(destination, sa.sa.spi));
    return sa.sa.spi;
  }

  private releaseSpi(spi: number, destination: string): void {
    const key = saKey(destination, spi);
    if (!this.larval.delete(key)) return; // installed since, or never ours: the Child SA deletes its SAs itself
    this.tryRequest(deleteSaRequest(this.nextSeq(), { family: familyOf(destination), destination, spi, protocol: 'esp' }), `releasing SPI ${hex(spi)}`);
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0x7fff_ffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** One request and its answer; an error answer is thrown as a KernelError naming `what`. */
  private request(bytes: Buffer, expect: XfrmAnswerKind, what: string): XfrmEvent[] {
    const answer = new XfrmAnswer(bytes.readUInt32LE(8), expect, what);
    try {
      this.requests.transact(bytes, (datagram) => answer.take(datagram));
    } catch (e) {
      throw answer.failed ?? asKernelError(e, what);
    }
    return answer.result();
  }

  /** A request whose failure is not worth more than a miss (cleanup); false on the miss. */
  private tryRequest(bytes: Buffer, what: string): boolean {
    try {
      this.request(bytes, 'ack', what);
      return true;
    } catch (e) {
      if (!isKernelError(e, 'not-found')) throw e;
      return false;
    }
  }

  private onEventDatagram(datagram: Buffer): void {
    const decoded = decodeNetlinkMessages(datagram);
    if (!decoded.ok) return;
    for (const message of decoded.value) {
      const event = decodeXfrmMessage(message);
      if (!event.ok) continue;
      const e = event.value;
      if (e.kind === 'expire') {
        const s = e.expire.sa;
        const expire: KernelSaExpire = { destination: s.destination, spi: s.spi, hard: e.expire.hard };
        for (const l of this.expireListeners) l(expire);
      } else if (e.kind === 'acquire') {
        const a = e.acquire;
        const trap = [...this.traps.values()].find((t) => t.reqid === a.reqid);
        if (trap === undefined) continue;
        const acquire: KernelAcquire = { connection: trap.connection, reqid: trap.reqid, packet: acquiredPacket(a.packet), local: trap.local, remote: trap.remote };
        for (const l of this.acquireListeners) l(acquire);
      }
    }
  }
}

const ICMP = 1;
const ICMPV6 = 58;

/**
 * The packet of an acquire as the ports speak of it (KernelPacket): the kernel puts an ICMP
 * packet's Type in the source port and its Code in the destination port; a KernelPacket carries
 * them as one value, Type << 8 | Code (RFC 7296 3.13.1).
 */
export function acquiredPacket(packet: Pick<XfrmSelector, 'source' | 'destination' | 'ipProtocol' | 'sourcePort' | 'destinationPort'>): KernelPacket {
  const base = { source: packet.source, destination: packet.destination, ipProtocol: packet.ipProtocol };
  if (packet.ipProtocol === ICMP || packet.ipProtocol === ICMPV6) return { ...base, sourcePort: ((packet.sourcePort & 0xff) << 8) | (packet.destinationPort & 0xff) };
  return {
    ...base,
    ...(packet.sourcePort === 0 ? {} : { sourcePort: packet.sourcePort }),
    ...(packet.destinationPort === 0 ? {} : { destinationPort: packet.destinationPort }),
  };
}

function hex(spi: number): string {
  return spi.toString(16).padStart(8, '0');
}

/** A socket-level failure as the kernel error the ports speak (EPERM names CAP_NET_ADMIN). */
function asKernelError(e: unknown, what: string): KernelError {
  if (e instanceof KernelError) return e;
  if (e instanceof NetlinkSocketError) return kernelErrorFromErrno(e.errno, `${what} (${e.call})`);
  return new KernelError('failed', `${what}: ${String((e as Error)?.message ?? e)}`);
}
