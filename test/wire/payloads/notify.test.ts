import { describe, expect, it } from 'vitest';
import {
  decodePayloadChain,
  encodePayloadChain,
  HashAlgorithm,
  notifyDataOf,
  notifyPayload,
  NotifyType,
  PayloadType,
  ProtocolId,
  type NotifyData,
  type NotifyPayload,
} from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const N = PayloadType.N;

function decodeNotify(bytes: Buffer): NotifyPayload {
  const payloads = expectOk(decodePayloadChain(bytes, N, BASE));
  expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  return payloads[0] as NotifyPayload;
}

function badData(bytes: Buffer, offset: number) {
  expectParseError(decodePayloadChain(bytes, N, BASE), { code: 'bad-notify-data', offset, payloadType: N });
}

const HASH = '5a'.repeat(20);

describe('Notify payload (RFC 7296 3.10)', () => {
  it('NAT_DETECTION_SOURCE_IP carries a 20-octet SHA-1 hash', () => {
    const bytes = hex`
      00 00 00 1c   # generic header, length 28
      00            # Protocol ID 0 (no SPI)
      00            # SPI Size 0
      40 04         # Notify Message Type 16388 NAT_DETECTION_SOURCE_IP
      ${HASH}       # SHA-1(SPIi | SPIr | IP | Port)
    `;
    const n = decodeNotify(bytes);
    expect(n).toEqual({
      type: N,
      protocolId: 0,
      spi: Buffer.alloc(0),
      notifyType: NotifyType.NAT_DETECTION_SOURCE_IP,
      data: Buffer.from(HASH, 'hex'),
    });
    expect(notifyDataOf(n)).toEqual({ name: 'NAT_DETECTION_SOURCE_IP', hash: Buffer.from(HASH, 'hex') });
    expect(notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: Buffer.from(HASH, 'hex') })).toEqual(n);
  });

  it('NAT_DETECTION_DESTINATION_IP of 19 or 21 octets is bad-notify-data at the data', () => {
    expect(notifyDataOf(decodeNotify(hex`00 00 00 1c  00 00 40 05  ${HASH}`))?.name).toBe('NAT_DETECTION_DESTINATION_IP');
    badData(hex`00 00 00 1b  00 00 40 05  ${'5a'.repeat(19)}`, 36);
    badData(hex`00 00 00 1d  00 00 40 04  ${'5a'.repeat(21)}`, 36);
  });

  it('COOKIE is 1..64 octets', () => {
    const n = decodeNotify(hex`00 00 00 0a  00 00 40 06  c0 0c`);
    expect(notifyDataOf(n)).toEqual({ name: 'COOKIE', cookie: hex`c00c` });
    decodeNotify(Buffer.concat([hex`00 00 00 48  00 00 40 06`, Buffer.alloc(64, 1)]));
    badData(hex`00 00 00 08  00 00 40 06`, 36);
    badData(Buffer.concat([hex`00 00 00 49  00 00 40 06`, Buffer.alloc(65, 1)]), 36);
  });

  it('INVALID_KE_PAYLOAD carries the accepted 2-octet DH group', () => {
    const n = decodeNotify(hex`00 00 00 0a  00 00 00 11  00 0e`); // type 17, group 14
    expect(notifyDataOf(n)).toEqual({ name: 'INVALID_KE_PAYLOAD', dhGroup: 14 });
    expect(notifyPayload({ name: 'INVALID_KE_PAYLOAD', dhGroup: 14 })).toEqual(n);
    badData(hex`00 00 00 0b  00 00 00 11  00 0e 00`, 36);
    badData(hex`00 00 00 08  00 00 00 11`, 36);
  });

  it('REKEY_SA names the Child SA in the SPI field and has no data', () => {
    const bytes = hex`
      00 00 00 0c
      03            # Protocol ID 3 (ESP)
      04            # SPI Size 4
      40 09         # 16393 REKEY_SA
      12 34 56 78   # SPI of the SA being rekeyed
    `;
    const n = decodeNotify(bytes);
    expect(notifyDataOf(n)).toEqual({ name: 'REKEY_SA', protocolId: ProtocolId.ESP, spi: hex`12345678` });
    expect(notifyPayload({ name: 'REKEY_SA', protocolId: ProtocolId.ESP, spi: hex`12345678` })).toEqual(n);
    // Without an SPI the error points at where the SPI should be.
    expectParseError(decodePayloadChain(hex`00 00 00 08  03 00 40 09`, N, BASE), {
      code: 'bad-notify-data',
      offset: 36,
      payloadType: N,
    });
    badData(hex`00 00 00 0d  03 04 40 09  12 34 56 78  00`, 40);
  });

  it('SET_WINDOW_SIZE is 4 octets', () => {
    const n = decodeNotify(hex`00 00 00 0c  00 00 40 01  00 00 00 0a`);
    expect(notifyDataOf(n)).toEqual({ name: 'SET_WINDOW_SIZE', windowSize: 10 });
    expect(notifyPayload({ name: 'SET_WINDOW_SIZE', windowSize: 10 })).toEqual(n);
    badData(hex`00 00 00 0a  00 00 40 01  00 0a`, 36);
  });

  it('SIGNATURE_HASH_ALGORITHMS is a list of 2-octet ids (RFC 7427 4)', () => {
    const n = decodeNotify(hex`00 00 00 0e  00 00 40 2f  00 02 00 03 00 04`);
    const d: NotifyData = {
      name: 'SIGNATURE_HASH_ALGORITHMS',
      hashAlgorithms: [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512],
    };
    expect(notifyDataOf(n)).toEqual(d);
    expect(notifyPayload(d)).toEqual(n);
    badData(hex`00 00 00 0b  00 00 40 2f  00 02 00`, 36);
  });

  it('status notifies without data; data on them is bad-notify-data', () => {
    const flags = [
      ['INITIAL_CONTACT', 0x4000],
      ['USE_TRANSPORT_MODE', 0x4007],
      ['ESP_TFC_PADDING_NOT_SUPPORTED', 0x400a],
      ['NON_FIRST_FRAGMENTS_ALSO', 0x400b],
      ['MOBIKE_SUPPORTED', 0x400c],
      ['IKEV2_FRAGMENTATION_SUPPORTED', 0x402e],
    ] as const;
    for (const [name, type] of flags) {
      expect(NotifyType[name]).toBe(type);
      const bytes = hex`00 00 00 08  00 00 ${type.toString(16).padStart(4, '0')}`;
      const n = decodeNotify(bytes);
      expect(notifyDataOf(n)).toEqual({ name });
      expect(notifyPayload({ name })).toEqual(n);
      badData(hex`00 00 00 09  00 00 ${type.toString(16).padStart(4, '0')}  00`, 36);
    }
  });

  it('other types keep protocol, SPI and data raw, error types included', () => {
    const n = decodeNotify(hex`00 00 00 0d  03 04 00 27  aa bb cc dd  01`); // 39 INVALID_SELECTORS
    expect(notifyDataOf(n)).toEqual({
      name: 'other',
      notifyType: NotifyType.INVALID_SELECTORS,
      protocolId: 3,
      spi: hex`aabbccdd`,
      data: hex`01`,
    });
    const unassigned = decodeNotify(hex`00 00 00 09  00 00 9c 40  ff`); // 40000, private use
    expect(notifyDataOf(unassigned)).toMatchObject({ name: 'other', notifyType: 40000 });
  });

  it('a typed notify keeps an SPI a peer sent against RFC 7296 3.10 (the typed view ignores it)', () => {
    const n = decodeNotify(hex`00 00 00 0c  01 04 40 00  01 02 03 04`); // INITIAL_CONTACT with a stray SPI
    expect(n.spi).toEqual(hex`01020304`);
    expect(notifyDataOf(n)).toEqual({ name: 'INITIAL_CONTACT' });
  });

  it('SPI Size beyond the payload is truncated', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 0a  03 04 40 09  12 34`, N, BASE), {
      code: 'truncated',
      offset: 36,
      payloadType: N,
    });
  });

  it('notifyPayload refuses data that does not fit; notifyDataOf returns undefined for it', () => {
    expect(() => notifyPayload({ name: 'COOKIE', cookie: Buffer.alloc(0) })).toThrow(RangeError);
    expect(() => notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: Buffer.alloc(32) })).toThrow(RangeError);
    expect(() =>
      notifyPayload({ name: 'other', notifyType: NotifyType.COOKIE, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) }),
    ).toThrow(RangeError);
    expect(
      notifyDataOf({ notifyType: NotifyType.SET_WINDOW_SIZE, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(3) }),
    ).toBeUndefined();
  });
});
