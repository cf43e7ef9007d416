/**
 * Writes UDP datagrams as a classic libpcap capture file, so that recorded IKE exchanges can
 * be opened in Wireshark/tshark (the recorder's export, and the tshark interop tests).
 *
 * Format choices:
 * - Classic libpcap, not pcapng: one fixed 24-octet file header and a 16-octet header per
 *   record is all a reader needs, and every tool that reads pcapng also reads this.
 *   Magic 0xa1b2c3d4 written big-endian, so the file is byte-for-byte the same on every host
 *   and timestamps have microsecond resolution.
 * - LINKTYPE_RAW (101): each record starts directly with the IP header and the reader picks
 *   IPv4 or IPv6 from the version nibble. That lets IPv4 and IPv6 datagrams share one file
 *   (LINKTYPE_IPV4/IPV6 would not) without inventing MAC addresses for an Ethernet header
 *   that we never saw. (The file value 101 is LINKTYPE_RAW; DLT_RAW's numeric value differs
 *   between platforms, which is why pcap files use the LINKTYPE number.)
 *
 * Checksums are real (RFC 791 header checksum, RFC 768 / RFC 8200 8.1 UDP checksum over the
 * pseudo-header), so a reader that validates them finds every packet good.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { parseIp } from '../wire/ip-address.js';

/** LINKTYPE_RAW in the tcpdump.org link-layer header type registry. */
export const LINKTYPE_RAW = 101;
const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
/** Large enough that no UDP datagram (max 65535 octets of IP payload + IPv6 header) is cut. */
const DEFAULT_SNAPLEN = 262_144;

const IP_PROTO_UDP = 17;
const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
const UDP_HEADER_LENGTH = 8;
const DEFAULT_HOP_LIMIT = 64;
/** Spacing of timestamps for datagrams added without one, so the capture stays in order. */
const DEFAULT_TIMESTAMP_STEP_MICROS = 1_000;

export interface UdpEndpoint {
  /** Textual IPv4 (dotted quad) or IPv6 address. Both ends of a datagram must be the same family. */
  readonly address: string;
  readonly port: number;
}

export interface UdpDatagram {
  readonly src: UdpEndpoint;
  readonly dst: UdpEndpoint;
  /** UDP payload, e.g. an IKE message (port 500) or non-ESP marker + IKE message (port 4500). */
  readonly payload: Uint8Array;
  /**
   * Capture time in microseconds since the Unix epoch. When omitted the record is stamped
   * 1 ms after the previous one (starting at `PcapOptions.startMicros`), which keeps output
   * deterministic for tests and replays.
   */
  readonly timestampMicros?: number;
}

export interface PcapOptions {
  /** Timestamp of the first record that carries none. Default 0 (1970-01-01). */
  readonly startMicros?: number;
  /** Snapshot length written in the file header. */
  readonly snaplen?: number;
}

/** Network-order octets of a textual IPv4 or IPv6 address (the codec's parser); throws on anything else. */
function addressBytes(text: string): Buffer {
  const bytes = parseIp(text);
  if (bytes === undefined) throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** RFC 1071 one's-complement sum of 16-bit words (odd trailing octet padded with zero), not yet complemented. */
function onesComplementSum(chunks: readonly Uint8Array[]): number {
  let sum = 0;
  // Chunks are concatenated logically; an odd-length chunk would shift the word alignment of
  // the next one, so carry the dangling octet across chunk boundaries.
  let pending: number | null = null;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const octet = chunk[i] as number;
      if (pending === null) {
        pending = octet;
      } else {
        sum += (pending << 8) | octet;
        pending = null;
      }
    }
    // Fold periodically so the sum stays well inside a safe integer.
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (pending !== null) sum += pending << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function internetChecksum(chunks: readonly Uint8Array[]): number {
  return ~onesComplementSum(chunks) & 0xffff;
}

function checkPort(port: number, which: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`${which} port out of range: ${port}`);
}

export interface IpEncodeOptions {
  /** IPv4 Identification field (RFC 791 / RFC 6864). Default 0. */
  readonly ipv4Identification?: number;
  /** IPv4 TTL / IPv6 Hop Limit. Default 64. */
  readonly hopLimit?: number;
}

/**
 * Builds one IP datagram (IPv4 or IPv6, from the address family) carrying a UDP datagram with
 * a correct UDP checksum. Throws if the families differ or the datagram does not fit.
 */
export function encodeUdpIpPacket(src: UdpEndpoint, dst: UdpEndpoint, payload: Uint8Array, options: IpEncodeOptions = {}): Buffer {
  checkPort(src.port, 'source');
  checkPort(dst.port, 'destination');
  const s = addressBytes(src.address);
  const d = addressBytes(dst.address);
  if (s.length !== d.length) throw new TypeError(`address families differ: ${src.address} → ${dst.address}`);
  const hopLimit = options.hopLimit ?? DEFAULT_HOP_LIMIT;
  const udpLength = UDP_HEADER_LENGTH + payload.length;
  // RFC 768: the UDP length field is 16 bits. (IPv6 jumbograms, RFC 2675, are out of scope.)
  if (udpLength > 0xffff) throw new RangeError(`UDP datagram too long: ${udpLength} octets`);

  const udp = Buffer.alloc(udpLength);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(udpLength, 4);
  // checksum (offset 6) stays zero while it is computed
  udp.set(payload, UDP_HEADER_LENGTH);

  if (s.length === 4) {
    const totalLength = IPV4_HEADER_LENGTH + udpLength;
    if (totalLength > 0xffff) throw new RangeError(`IPv4 datagram too long: ${totalLength} octets`);
    // RFC 768 pseudo-header: source, destination, zero, protocol, UDP length.
    const pseudo = Buffer.alloc(12);
    s.copy(pseudo, 0);
    d.copy(pseudo, 4);
    pseudo[9] = IP_PROTO_UDP;
    pseudo.writeUInt16BE(udpLength, 10);
    udp.writeUInt16BE(udpChecksumField(internetChecksum([pseudo, udp])), 6);

    const ip = Buffer.alloc(IPV4_HEADER_LENGTH);
    ip[0] = 0x45; // version 4, IHL 5 (no options)
    ip[1] = 0; // DSCP/ECN
    ip.writeUInt16BE(totalLength, 2);
    ip.writeUInt16BE((options.ipv4Identification ?? 0) & 0xffff, 4);
    ip.writeUInt16BE(0, 6); // flags/fragment offset: IKE may rely on IP fragmentation, so DF stays clear
    ip[8] = hopLimit;
    ip[9] = IP_PROTO_UDP;
    s.copy(ip, 12);
    d.copy(ip, 16);
    ip.writeUInt16BE(internetChecksum([ip]), 10); // RFC 791 3.1: over the header only
    return Buffer.concat([ip, udp]);
  }

  // RFC 8200 8.1 pseudo-header: source, destination, upper-layer length (32 bits), 3 zero octets, next header.
  const pseudo = Buffer.alloc(40);
  s.copy(pseudo, 0);
  d.copy(pseudo, 16);
  pseudo.writeUInt32BE(udpLength, 32);
  pseudo[39] = IP_PROTO_UDP;
  udp.writeUInt16BE(udpChecksumField(internetChecksum([pseudo, udp])), 6);

  const ip = Buffer.alloc(IPV6_HEADER_LENGTH);
  ip.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  ip.writeUInt16BE(udpLength, 4); // payload length
  ip[6] = IP_PROTO_UDP;
  ip[7] = hopLimit;
  s.copy(ip, 8);
  d.copy(ip, 24);
  return Buffer.concat([ip, udp]);
}

/** RFC 768: a computed checksum of zero is sent as all ones (zero means "no checksum"; RFC 8200 8.1 forbids that for IPv6). */
function udpChecksumField(checksum: number): number {
  return checksum === 0 ? 0xffff : checksum;
}

/** The 24-octet pcap file header. */
export function encodePcapFileHeader(options: PcapOptions = {}): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32BE(PCAP_MAGIC_MICROS, 0);
  header.writeUInt16BE(PCAP_VERSION_MAJOR, 4);
  header.writeUInt16BE(PCAP_VERSION_MINOR, 6);
  header.writeInt32BE(0, 8); // thiszone: timestamps are UTC
  header.writeUInt32BE(0, 12); // sigfigs
  header.writeUInt32BE(options.snaplen ?? DEFAULT_SNAPLEN, 16);
  header.writeUInt32BE(LINKTYPE_RAW, 20);
  return header;
}

/** One pcap record: 16-octet record header followed by the packet, untruncated. */
export function encodePcapRecord(timestampMicros: number, packet: Uint8Array): Buffer {
  if (!Number.isSafeInteger(timestampMicros) || timestampMicros < 0) {
    throw new RangeError(`timestamp must be a non-negative integer of microseconds: ${timestampMicros}`);
  }
  const seconds = Math.floor(timestampMicros / 1_000_000);
  if (seconds > 0xffffffff) throw new RangeError('timestamp beyond the classic pcap range (year 2106)');
  const header = Buffer.alloc(16);
  header.writeUInt32BE(seconds, 0);
  header.writeUInt32BE(timestampMicros % 1_000_000, 4);
  header.writeUInt32BE(packet.length, 8); // captured length
  header.writeUInt32BE(packet.length, 12); // original length
  return Buffer.concat([header, packet]);
}

/**
 * Streams a capture to any sink (a file, a socket, an array). The file header goes out with
 * the first call, so an empty writer still produces a valid, empty capture once `start()` or
 * any `addUdp` has run.
 */
export class PcapStreamWriter {
  readonly #sink: (chunk: Buffer) => void;
  readonly #options: PcapOptions;
  #started = false;
  #lastTimestamp: number | null = null;
  #ipv4Identification = 0;
  #count = 0;

  constructor(sink: (chunk: Buffer) => void, options: PcapOptions = {}) {
    this.#sink = sink;
    this.#options = options;
  }

  /** Emits the file header if it has not gone out yet. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#sink(encodePcapFileHeader(this.#options));
  }

  /** Number of records written so far. */
  get count(): number {
    return this.#count;
  }

  addUdp(datagram: UdpDatagram): void {
    const timestamp =
      datagram.timestampMicros ??
      (this.#lastTimestamp === null ? (this.#options.startMicros ?? 0) : this.#lastTimestamp + DEFAULT_TIMESTAMP_STEP_MICROS);
    // Build first so a bad datagram throws before anything reaches the sink.
    const packet = encodeUdpIpPacket(datagram.src, datagram.dst, datagram.payload, {
      ipv4Identification: this.#ipv4Identification,
    });
    const record = encodePcapRecord(timestamp, packet);
    this.start();
    this.#sink(record);
    this.#ipv4Identification = (this.#ipv4Identification + 1) & 0xffff;
    this.#lastTimestamp = timestamp;
    this.#count++;
  }
}

/** Collects a capture in memory. */
export class PcapWriter {
  readonly #chunks: Buffer[] = [];
  readonly #stream: PcapStreamWriter;

  constructor(options: PcapOptions = {}) {
    this.#stream = new PcapStreamWriter((chunk) => this.#chunks.push(chunk), options);
    this.#stream.start();
  }

  addUdp(datagram: UdpDatagram): this {
    this.#stream.addUdp(datagram);
    return this;
  }

  get count(): number {
    return this.#stream.count;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

/**
 * Opens `path` for a streamed capture. Created with mode 0600, as the key tables are: a capture
 * lies next to the keys that decrypt it, and together they reveal every protected message.
 * Call `close()` and await it before reading the file.
 */
export function openPcapFile(path: string, options: PcapOptions = {}): { writer: PcapStreamWriter; close(): Promise<void> } {
  const stream: WriteStream = createWriteStream(path, { mode: 0o600 });
  const writer = new PcapStreamWriter((chunk) => stream.write(chunk), options);
  writer.start();
  return {
    writer,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      }),
  };
}
