import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LINKTYPE_RAW,
  PcapStreamWriter,
  PcapWriter,
  encodeUdpIpPacket,
  openPcapFile,
} from '../../src/record/pcap-writer.js';
import { CHECKSUM_PREFS, describeWithTshark, runTshark } from '../support/tshark.js';

/** Independent RFC 1071 check: the one's-complement sum over data including its checksum is 0xffff. */
function onesSum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function ipv4PseudoPlusUdp(packet: Buffer): Buffer {
  const udp = packet.subarray(20);
  const pseudo = Buffer.alloc(12);
  packet.copy(pseudo, 0, 12, 20);
  pseudo[9] = 17;
  pseudo.writeUInt16BE(udp.length, 10);
  return Buffer.concat([pseudo, udp]);
}

function ipv6PseudoPlusUdp(packet: Buffer): Buffer {
  const udp = packet.subarray(40);
  const pseudo = Buffer.alloc(40);
  packet.copy(pseudo, 0, 8, 40);
  pseudo.writeUInt32BE(udp.length, 32);
  pseudo[39] = 17;
  return Buffer.concat([pseudo, udp]);
}

const V4A = { address: '192.0.2.1', port: 500 };
const V4B = { address: '192.0.2.2', port: 500 };
const V6A = { address: '2001:db8::1', port: 4500 };
const V6B = { address: '2001:db8:0:0:1::2', port: 4500 };
const V6Mapped = { address: '::ffff:192.0.2.1', port: 4500 };

describe('encodeUdpIpPacket', () => {
  it('builds an IPv4 header with a valid header checksum and a valid UDP checksum', () => {
    for (const length of [0, 1, 2, 3, 37, 1000]) {
      const payload = Buffer.alloc(length, 0xa5);
      const packet = encodeUdpIpPacket(V4A, V4B, payload, { ipv4Identification: 0x1234 });
      expect(packet.length).toBe(20 + 8 + length);
      expect(packet[0]).toBe(0x45);
      expect(packet.readUInt16BE(2)).toBe(packet.length);
      expect(packet.readUInt16BE(4)).toBe(0x1234);
      expect(packet[9]).toBe(17);
      expect(onesSum(packet.subarray(0, 20))).toBe(0xffff);
      expect(packet.readUInt16BE(20)).toBe(500);
      expect(packet.readUInt16BE(24)).toBe(8 + length);
      expect(onesSum(ipv4PseudoPlusUdp(packet))).toBe(0xffff);
      expect(packet.subarray(28).equals(payload)).toBe(true);
    }
  });

  it('builds an IPv6 header and the RFC 8200 pseudo-header UDP checksum', () => {
    for (const length of [0, 1, 5, 64]) {
      const payload = Buffer.alloc(length, 0x3c);
      const packet = encodeUdpIpPacket(V6A, V6B, payload);
      expect(packet.length).toBe(40 + 8 + length);
      expect(packet[0]! >> 4).toBe(6);
      expect(packet.readUInt16BE(4)).toBe(8 + length);
      expect(packet[6]).toBe(17);
      expect(packet.subarray(8, 24).toString('hex')).toBe('20010db8000000000000000000000001');
      expect(packet.subarray(24, 40).toString('hex')).toBe('20010db8000000000001000000000002');
      expect(packet.readUInt16BE(46)).not.toBe(0); // mandatory in IPv6
      expect(onesSum(ipv6PseudoPlusUdp(packet))).toBe(0xffff);
    }
  });

  it('treats an IPv4-mapped IPv6 address as IPv6', () => {
    const packet = encodeUdpIpPacket(V6Mapped, V6A, Buffer.from('m'));
    expect(packet[0]! >> 4).toBe(6);
    expect(packet.subarray(8, 24).toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(onesSum(ipv6PseudoPlusUdp(packet))).toBe(0xffff);
  });

  it('sends a computed checksum of zero as 0xffff (RFC 768)', () => {
    // Choose the payload word so that the sum becomes 0xffff, i.e. the checksum would be 0.
    const probe = encodeUdpIpPacket(V4A, V4B, Buffer.alloc(2));
    const complement = probe.readUInt16BE(26);
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(complement, 0);
    const packet = encodeUdpIpPacket(V4A, V4B, payload);
    expect(packet.readUInt16BE(26)).toBe(0xffff);
    expect(onesSum(ipv4PseudoPlusUdp(packet))).toBe(0xffff);
  });

  it('refuses non-addresses, mixed families, bad ports and oversized datagrams', () => {
    expect(() => encodeUdpIpPacket({ address: '192.0.2.256', port: 1 }, V4B, Buffer.alloc(1))).toThrow(TypeError);
    expect(() => encodeUdpIpPacket({ address: 'example.org', port: 1 }, V4B, Buffer.alloc(1))).toThrow(TypeError);
    expect(() => encodeUdpIpPacket(V4A, V6B, Buffer.alloc(1))).toThrow(TypeError);
    expect(() => encodeUdpIpPacket({ address: '192.0.2.1', port: 70000 }, V4B, Buffer.alloc(1))).toThrow(RangeError);
    expect(() => encodeUdpIpPacket(V4A, V4B, Buffer.alloc(65_535 - 28 + 1))).toThrow(RangeError);
    expect(encodeUdpIpPacket(V4A, V4B, Buffer.alloc(65_535 - 28)).length).toBe(65_535);
    expect(() => encodeUdpIpPacket(V6A, V6B, Buffer.alloc(65_535 - 8 + 1))).toThrow(RangeError);
  });
});

describe('PcapWriter', () => {
  it('writes the classic file header (big-endian magic, v2.4, LINKTYPE_RAW) and records', () => {
    const writer = new PcapWriter({ startMicros: 1_700_000_000_250_000 });
    writer.addUdp({ src: V4A, dst: V4B, payload: Buffer.from('abc') });
    writer.addUdp({ src: V4B, dst: V4A, payload: Buffer.from('de'), timestampMicros: 1_700_000_005_000_001 });
    writer.addUdp({ src: V4A, dst: V4B, payload: Buffer.from('f') });
    const file = writer.toBuffer();
    expect(file.readUInt32BE(0)).toBe(0xa1b2c3d4);
    expect(file.readUInt16BE(4)).toBe(2);
    expect(file.readUInt16BE(6)).toBe(4);
    expect(file.readUInt32BE(20)).toBe(LINKTYPE_RAW);

    let offset = 24;
    const stamps: number[] = [];
    const lengths: number[] = [];
    while (offset < file.length) {
      stamps.push(file.readUInt32BE(offset) * 1_000_000 + file.readUInt32BE(offset + 4));
      const captured = file.readUInt32BE(offset + 8);
      expect(file.readUInt32BE(offset + 12)).toBe(captured);
      lengths.push(captured);
      offset += 16 + captured;
    }
    expect(offset).toBe(file.length);
    expect(lengths).toEqual([31, 30, 29]);
    // Missing timestamps continue 1 ms after the previous record.
    expect(stamps).toEqual([1_700_000_000_250_000, 1_700_000_005_000_001, 1_700_000_005_001_001]);
    expect(writer.count).toBe(3);
  });

  it('streams the same bytes to a sink', () => {
    const chunks: Buffer[] = [];
    const stream = new PcapStreamWriter((c) => chunks.push(c), { startMicros: 5 });
    const memory = new PcapWriter({ startMicros: 5 });
    for (const payload of [Buffer.from('x'), Buffer.from('yz')]) {
      stream.addUdp({ src: V6A, dst: V6B, payload });
      memory.addUdp({ src: V6A, dst: V6B, payload });
    }
    expect(Buffer.concat(chunks).equals(memory.toBuffer())).toBe(true);
  });

  it('does not emit anything for a datagram it refuses', () => {
    const chunks: Buffer[] = [];
    const stream = new PcapStreamWriter((c) => chunks.push(c));
    expect(() => stream.addUdp({ src: V4A, dst: V6B, payload: Buffer.alloc(0) })).toThrow();
    expect(chunks).toEqual([]);
    expect(() => stream.addUdp({ src: V4A, dst: V4B, payload: Buffer.alloc(0), timestampMicros: -1 })).toThrow(RangeError);
    expect(chunks).toEqual([]);
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'ikekm-pcap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('openPcapFile', () => {
  it('writes a 0600 file identical to the in-memory capture', async () => {
    const path = join(tmp, 'stream.pcap');
    const { writer, close } = openPcapFile(path, { startMicros: 1 });
    const memory = new PcapWriter({ startMicros: 1 });
    writer.addUdp({ src: V4A, dst: V4B, payload: Buffer.from('payload') });
    memory.addUdp({ src: V4A, dst: V4B, payload: Buffer.from('payload') });
    await close();
    expect(readFileSync(path).equals(memory.toBuffer())).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describeWithTshark('pcap writer judged by tshark', () => {
  it('every IPv4 and IPv6 datagram has good IP and UDP checksums', async () => {
    const writer = new PcapWriter({ startMicros: 1_700_000_000_000_000 });
    const data4a = { address: '192.0.2.1', port: 40001 };
    const data4b = { address: '198.51.100.7', port: 40002 };
    const data6a = { address: '2001:db8::1', port: 40001 };
    const data6b = { address: '2001:db8:ffff::abcd', port: 40002 };
    const lengths = [0, 1, 2, 3, 255, 1400];
    for (const length of lengths) writer.addUdp({ src: data4a, dst: data4b, payload: Buffer.alloc(length, length & 0xff) });
    for (const length of lengths) writer.addUdp({ src: data6b, dst: data6a, payload: Buffer.alloc(length, 0xff - (length & 0xff)) });
    const path = join(tmp, 'checksums.pcap');
    writeFileSync(path, writer.toBuffer());

    const run = await runTshark(path, {
      prefs: CHECKSUM_PREFS,
      fields: ['frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.checksum.status', 'udp.checksum.status', 'udp.length', '_ws.malformed', '_ws.expert.severity'],
    });
    expect(run.packets).toHaveLength(lengths.length * 2);
    run.packets.forEach((packet, i) => {
      const v4 = i < lengths.length;
      const length = lengths[i % lengths.length]!;
      // proto_checksum_vals: 0 Bad, 1 Good, 2 Unverified (validation off), 3 Not present.
      expect(packet['udp.checksum.status'], `packet ${i}`).toEqual(['1']);
      expect(packet['udp.length']).toEqual([String(8 + length)]);
      expect(packet['_ws.malformed']).toBeUndefined();
      expect(packet['_ws.expert.severity']).toBeUndefined();
      if (v4) {
        expect(packet['ip.checksum.status']).toEqual(['1']);
        expect(packet['ip.src']).toEqual(['192.0.2.1']);
        expect(packet['ip.dst']).toEqual(['198.51.100.7']);
      } else {
        expect(packet['ipv6.src']).toEqual(['2001:db8:ffff::abcd']);
        expect(packet['ipv6.dst']).toEqual(['2001:db8::1']);
      }
    });
    expect(run.packets[0]!['frame.time_epoch']).toEqual(['1700000000.000000000']);
  });

  it('the judge notices a corrupted UDP checksum (negative control)', async () => {
    const file = new PcapWriter().addUdp({ src: { address: '192.0.2.1', port: 40001 }, dst: { address: '192.0.2.2', port: 40002 }, payload: Buffer.from('x') }).toBuffer();
    const at = 24 + 16 + 20 + 6; // UDP checksum of the first record
    file.writeUInt8(file.readUInt8(at) ^ 0x01, at);
    const path = join(tmp, 'bad.pcap');
    writeFileSync(path, file);
    const run = await runTshark(path, { prefs: CHECKSUM_PREFS, fields: ['udp.checksum.status'] });
    expect(run.packets[0]!['udp.checksum.status']).toEqual(['0']);
  });
});
