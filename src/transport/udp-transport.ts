/**
 * The IKE transport: UDP port 500 and the NAT-T port 4500 (RFC 7296 2.23), one socket of each
 * per configured local address.
 *
 * - On the IKE port messages travel as they are.
 * - On the NAT-T port an IKE message is preceded by the 4-octet non-ESP marker (RFC 3948 2.2):
 *   `send` adds it, inbound it is stripped, so `Datagram.bytes` is always the bare IKE message.
 *   A NAT-keepalive (one octet 0xFF, RFC 3948 2.3) and ESP-in-UDP (a non-zero SPI, RFC 3948 2.1)
 *   arriving here are counted and not delivered: keepalives only keep the NAT mapping alive, and
 *   ESP belongs to the kernel.
 *
 * Limitations (Node's dgram has no IP_PKTINFO / IPV6_RECVPKTINFO, nor UDP_ENCAP):
 * - A socket bound to a wildcard cannot tell which local address a datagram was sent to, nor
 *   choose the source address of what it sends (the kernel's routing picks it). Inbound
 *   datagrams on a wildcard socket report `local.address` as the configured default local
 *   address of that family (`defaultLocalAddresses`), or the wildcard itself when none is
 *   configured. Bind specific addresses when the NAT_DETECTION_DESTINATION_IP hash (RFC 7296
 *   2.23) must use the real destination address.
 * - The NAT-T socket is a plain UDP socket: without the kernel's UDP_ENCAP_ESPINUDP option,
 *   ESP-in-UDP reaching it is not decapsulated by the kernel. The XFRM backend sets that option
 *   on it (`boundSockets()` lists what to set it on); with the memory backend ESP is only counted.
 */
import type { Datagram, Endpoint, NetworkPort } from '../ports.js';
import { classifyNattDatagram, NATT_KEEPALIVE, NON_ESP_MARKER, NON_ESP_MARKER_LENGTH } from '../wire/natt.js';
import { bindSocket, closeSocket, familyOf, isWildcard, socketFor, type AddressFamily, type BoundSocket, type SocketRole } from './bound-socket.js';
import { TransportError } from './transport-error.js';

/** Why an inbound datagram was not delivered (keepalives and ESP are counted apart: they are normal). */
export type DropReason =
  /** RFC 3948: shorter than the 4-octet non-ESP marker and not a NAT-keepalive. */
  | 'natt-too-short'
  /** RFC 3948 2.1 / RFC 4303 2: a non-zero SPI but shorter than an ESP header (SPI + sequence number). */
  | 'natt-truncated-esp';

export const DROP_REASONS: readonly DropReason[] = ['natt-too-short', 'natt-truncated-esp'];

export interface TransportStats {
  /** Every datagram received on any socket, and its octets (marker included). */
  readonly datagramsIn: number;
  readonly bytesIn: number;
  /** IKE messages delivered to `onDatagram`. */
  readonly ikeIn: number;
  /** Datagrams the operating system accepted for sending, and their octets (marker included). */
  readonly datagramsOut: number;
  readonly bytesOut: number;
  readonly keepalivesIn: number;
  readonly keepalivesOut: number;
  /** ESP-in-UDP that reached the NAT-T socket (the kernel handles ESP; we only count it). */
  readonly espOnNatt: number;
  readonly sendErrors: number;
  readonly handlerErrors: number;
  readonly drops: Readonly<Record<DropReason, number>>;
}

export interface UdpTransportOptions {
  /** Local addresses to bind, IPv4 and/or IPv6 literals; wildcards '0.0.0.0' and '::' allowed. */
  readonly addresses: readonly string[];
  /** Default 500. 0 picks an ephemeral port (shared by all addresses); see `localPorts()`. */
  readonly ikePort?: number;
  /** Default 4500. 0 picks an ephemeral port (shared by all addresses); see `localPorts()`. */
  readonly nattPort?: number;
  /** The local address reported for datagrams received on a wildcard-bound socket (see the limitation above). */
  readonly defaultLocalAddresses?: { readonly IPv4?: string; readonly IPv6?: string };
  /** SO_RCVBUF asked for each socket; default RECEIVE_BUFFER_BYTES (bound-socket.ts). */
  readonly receiveBufferBytes?: number;
  readonly onDatagram: (datagram: Datagram) => void;
  readonly onDrop?: (reason: DropReason, from: Endpoint) => void;
  /** Send failures and socket errors; never thrown out of `send`. */
  readonly onError?: (error: TransportError) => void;
}

interface MutableStats {
  datagramsIn: number;
  bytesIn: number;
  ikeIn: number;
  datagramsOut: number;
  bytesOut: number;
  keepalivesIn: number;
  keepalivesOut: number;
  espOnNatt: number;
  sendErrors: number;
  handlerErrors: number;
  drops: Record<DropReason, number>;
}

/** Attempts at finding one ephemeral port free on every address (only when port 0 is asked for). */
const EPHEMERAL_BIND_ATTEMPTS = 5;

export class UdpTransport implements NetworkPort {
  private readonly counters: MutableStats = {
    datagramsIn: 0,
    bytesIn: 0,
    ikeIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    keepalivesIn: 0,
    keepalivesOut: 0,
    espOnNatt: 0,
    sendErrors: 0,
    handlerErrors: 0,
    drops: { 'natt-too-short': 0, 'natt-truncated-esp': 0 },
  };
  private closed = false;

  private constructor(
    private readonly sockets: readonly BoundSocket[],
    private readonly options: UdpTransportOptions,
  ) {
    for (const bound of sockets) {
      bound.socket.on('message', (message, rinfo) => this.receive(bound, message, { address: rinfo.address, port: rinfo.port }));
      bound.socket.on('error', (error) =>
        this.report(new TransportError('socket-error', `socket ${bound.address}:${bound.port}: ${error.message}`, { cause: error })),
      );
    }
  }

  /** Binds one IKE and one NAT-T socket per address; rejects (and releases what it bound) if any bind fails. */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    const ikePort = options.ikePort ?? 500;
    const nattPort = options.nattPort ?? 4500;
    validateOptions(options, ikePort, nattPort);
    const ephemeral = ikePort === 0 || nattPort === 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return new UdpTransport(await bindAll(options.addresses, ikePort, nattPort, options.receiveBufferBytes), options);
      } catch (error) {
        // With port 0 the first address picks the port and the others must get the same one;
        // if another program holds it on another address, start over with fresh ports.
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!(ephemeral && inUse && attempt < EPHEMERAL_BIND_ATTEMPTS)) throw error;
      }
    }
  }

  /** The actual ports (useful after binding port 0). */
  localPorts(): { readonly ike: number; readonly natt: number } {
    const port = (role: SocketRole): number => this.sockets.find((s) => s.role === role)?.port ?? 0;
    return { ike: port('ike'), natt: port('natt') };
  }

  /** Every bound socket as an endpoint with its role. */
  boundEndpoints(): ReadonlyArray<Endpoint & { readonly role: SocketRole }> {
    return this.sockets.map((s) => ({ role: s.role, address: s.address, port: s.port }));
  }

  /**
   * Every bound socket as the kernel sees it (family, bound address, port) with its role: what a
   * kernel backend needs to find the socket and set options on it (IPsec bypass, ESP-in-UDP).
   */
  boundSockets(): ReadonlyArray<{ readonly role: SocketRole; readonly family: AddressFamily; readonly address: string; readonly port: number }> {
    return this.sockets.map((s) => ({ role: s.role, family: s.family, address: s.address, port: s.port }));
  }

  /**
   * The smallest receive buffer the kernel granted a socket, in octets as it counts them (Linux
   * reports twice what it allows for data); below the asked size when net.core.rmem_max is.
   */
  receiveBufferBytes(): number {
    return Math.min(...this.sockets.map((s) => s.socket.getRecvBufferSize()));
  }

  stats(): TransportStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  /** NetworkPort: sends an IKE message, behind the non-ESP marker when leaving from the NAT-T socket. */
  send(datagram: Datagram): void {
    this.transmit(datagram.local, datagram.remote, datagram.bytes, true);
  }

  /**
   * Sends bytes exactly as given, without the non-ESP marker: for the NAT-keepalive
   * (RFC 3948 2.3), which is not an IKE message.
   */
  sendRaw(local: Endpoint, remote: Endpoint, bytes: Buffer): void {
    this.transmit(local, remote, bytes, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.sockets.map((s) => closeSocket(s.socket)));
  }

  private transmit(local: Endpoint, remote: Endpoint, bytes: Buffer, isIke: boolean): void {
    const where = { local, remote };
    if (this.closed) return this.sendFailed(new TransportError('closed', 'the transport is closed', where));
    const bound = socketFor(this.sockets, local);
    if (bound === undefined) {
      return this.sendFailed(new TransportError('no-socket', `no socket bound to ${local.address} port ${local.port}`, where));
    }
    const remoteFamily = familyOf(remote.address);
    if (remoteFamily === undefined || !Number.isInteger(remote.port) || remote.port < 1 || remote.port > 0xffff) {
      return this.sendFailed(new TransportError('invalid-address', `cannot send to ${remote.address} port ${remote.port}`, where));
    }
    if (remoteFamily !== bound.family) {
      return this.sendFailed(new TransportError('family-mismatch', `${remote.address} is ${remoteFamily}, the socket ${bound.family}`, where));
    }
    const framed = isIke && bound.role === 'natt' ? [NON_ESP_MARKER, bytes] : [bytes];
    const length = framed.reduce((sum, b) => sum + b.length, 0);
    const isKeepalive = !isIke && bytes.equals(NATT_KEEPALIVE);
    try {
      bound.socket.send(framed, remote.port, remote.address, (error) => {
        if (error) return this.sendFailed(new TransportError('send-failed', `send to ${remote.address}:${remote.port}: ${error.message}`, { ...where, cause: error }));
        this.counters.datagramsOut++;
        this.counters.bytesOut += length;
        if (isKeepalive) this.counters.keepalivesOut++;
      });
    } catch (error) {
      // dgram throws synchronously for a socket closed under us and for some argument errors.
      this.sendFailed(new TransportError('send-failed', `send to ${remote.address}:${remote.port}: ${(error as Error).message}`, { ...where, cause: error }));
    }
  }

  private receive(bound: BoundSocket, message: Buffer, remote: Endpoint): void {
    this.counters.datagramsIn++;
    this.counters.bytesIn += message.length;
    let ike: Buffer = message;
    if (bound.role === 'natt') {
      const classified = classifyNattDatagram(message);
      if (!classified.ok) return this.drop(message.length < NON_ESP_MARKER_LENGTH ? 'natt-too-short' : 'natt-truncated-esp', remote);
      if (classified.value.kind === 'keepalive') {
        this.counters.keepalivesIn++;
        return;
      }
      if (classified.value.kind === 'esp') {
        this.counters.espOnNatt++;
        return;
      }
      ike = classified.value.message;
    }
    this.counters.ikeIn++;
    const local: Endpoint = { address: this.reportedLocalAddress(bound), port: bound.port };
    try {
      this.options.onDatagram({ local, remote, bytes: ike });
    } catch (error) {
      this.counters.handlerErrors++;
      this.report(new TransportError('handler-error', `onDatagram threw: ${(error as Error).message}`, { local, remote, cause: error }));
    }
  }

  private reportedLocalAddress(bound: BoundSocket): string {
    if (!isWildcard(bound.address)) return bound.address;
    return this.options.defaultLocalAddresses?.[bound.family] ?? bound.address;
  }

  private drop(reason: DropReason, from: Endpoint): void {
    this.counters.drops[reason]++;
    this.options.onDrop?.(reason, from);
  }

  private sendFailed(error: TransportError): void {
    this.counters.sendErrors++;
    this.report(error);
  }

  private report(error: TransportError): void {
    try {
      this.options.onError?.(error);
    } catch {
      // A throwing error callback must not turn a reported failure into a crash of the socket loop.
    }
  }
}

function validateOptions(options: UdpTransportOptions, ikePort: number, nattPort: number): void {
  if (options.addresses.length === 0) throw new TypeError('UdpTransport needs at least one local address');
  for (const port of [ikePort, nattPort]) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`not a UDP port: ${port}`);
  }
  if (ikePort === nattPort && ikePort !== 0) throw new RangeError(`the IKE and NAT-T ports must differ (both ${ikePort})`);
  const seen = new Set<string>();
  for (const address of options.addresses) {
    if (familyOf(address) === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
    if (seen.has(address)) throw new TypeError(`address listed twice: ${address}`);
    seen.add(address);
  }
  for (const [family, address] of Object.entries(options.defaultLocalAddresses ?? {}) as [AddressFamily, string | undefined][]) {
    if (address !== undefined && familyOf(address) !== family) throw new TypeError(`default ${family} local address is not ${family}: ${address}`);
  }
}

/**
 * Binds all sockets. A requested port 0 is resolved by the first address and reused by the
 * others, so the engine sees one IKE port and one NAT-T port (RFC 7296 2.23 floats to "the"
 * NAT-T port).
 */
async function bindAll(addresses: readonly string[], ikePort: number, nattPort: number, receiveBufferBytes?: number): Promise<BoundSocket[]> {
  const bound: BoundSocket[] = [];
  const chosen: Record<SocketRole, number> = { ike: ikePort, natt: nattPort };
  try {
    for (const address of addresses) {
      for (const role of ['ike', 'natt'] as const) {
        const socket = await bindSocket(role, address, chosen[role], receiveBufferBytes);
        chosen[role] = socket.port;
        bound.push(socket);
      }
    }
    return bound;
  } catch (error) {
    await Promise.all(bound.map((s) => closeSocket(s.socket)));
    throw error;
  }
}
