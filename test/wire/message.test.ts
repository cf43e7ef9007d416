import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodePayloadChain,
  DhId,
  EncrId,
  encodeMessage,
  ExchangeType,
  findPayload,
  findPayloads,
  firstUnsupportedCriticalPayload,
  IntegId,
  kePayload,
  noncePayload,
  notifyPayload,
  PayloadType,
  PrfId,
  ProtocolId,
  saPayload,
  skPayload,
  transform,
  TransformType,
  type IkeMessage,
} from '../../src/wire/index.js';
import { expectOk, expectParseError } from './expect-parse-error.js';
import { hex } from './hex.js';

// A complete IKE_SA_INIT request (RFC 7296 1.2: HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*)).
const IKE_SA_INIT = hex`
  # ---- HDR (3.1) ----
  a1 a2 a3 a4 a5 a6 a7 a8   # SPIi
  00 00 00 00 00 00 00 00   # SPIr
  21 20 22 08               # Next Payload 33 (SA), 2.0, IKE_SA_INIT, Flags I
  00 00 00 00               # Message ID 0
  00 00 00 f0               # Length 240
  # ---- SAi1 (3.3), @28 ----
  22 00 00 30               # Next Payload 34 (KE), length 48
  00 00 00 2c  01 01 00 04  # proposal 1, IKE, no SPI, 4 transforms
  03 00 00 0c  01 00 00 0c  80 0e 01 00   # ENCR_AES_CBC, KEY_LENGTH 256
  03 00 00 08  02 00 00 05                # PRF_HMAC_SHA2_256
  03 00 00 08  03 00 00 0c                # AUTH_HMAC_SHA2_256_128
  00 00 00 08  04 00 00 13                # ECP_256
  # ---- KEi (3.4), @76 ----
  28 00 00 48  00 13 00 00  # Next Payload 40 (Nonce), length 72, group 19
  ${'4b'.repeat(64)}        # ECP-256 public value x || y
  # ---- Ni (3.9), @148 ----
  29 00 00 24               # Next Payload 41 (N), length 36
  ${'4e'.repeat(32)}
  # ---- N(NAT_DETECTION_SOURCE_IP) (3.10), @184 ----
  29 00 00 1c  00 00 40 04  ${'53'.repeat(20)}
  # ---- N(NAT_DETECTION_DESTINATION_IP), @212 ----
  00 00 00 1c  00 00 40 05  ${'44'.repeat(20)}
`;

const IKE_SA_INIT_MODEL: IkeMessage = {
  header: {
    spiI: hex`a1a2a3a4a5a6a7a8`,
    spiR: Buffer.alloc(8),
    majorVersion: 2,
    minorVersion: 0,
    exchangeType: ExchangeType.IKE_SA_INIT,
    flags: { initiator: true, version: false, response: false },
    messageId: 0,
  },
  payloads: [
    saPayload([
      {
        proposalNum: 1,
        protocolId: ProtocolId.IKE,
        spi: Buffer.alloc(0),
        transforms: [
          transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 256),
          transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_256),
          transform(TransformType.INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
          transform(TransformType.DH, DhId.ECP_256),
        ],
      },
    ]),
    kePayload(DhId.ECP_256, Buffer.alloc(64, 0x4b)),
    noncePayload(Buffer.alloc(32, 0x4e)),
    notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: Buffer.alloc(20, 0x53) }),
    notifyPayload({ name: 'NAT_DETECTION_DESTINATION_IP', hash: Buffer.alloc(20, 0x44) }),
  ],
};

describe('IKE message', () => {
  it('decodes a full IKE_SA_INIT request', () => {
    expect(IKE_SA_INIT.length).toBe(240);
    expect(expectOk(decodeMessage(IKE_SA_INIT))).toEqual(IKE_SA_INIT_MODEL);
  });

  it('encodes the model to the same bytes', () => {
    expect(encodeMessage(IKE_SA_INIT_MODEL).equals(IKE_SA_INIT)).toBe(true);
  });

  it('findPayload / findPayloads are typed lookups', () => {
    const msg = expectOk(decodeMessage(IKE_SA_INIT));
    expect(findPayload(msg.payloads, PayloadType.KE)?.dhGroup).toBe(DhId.ECP_256);
    expect(findPayload(msg.payloads, PayloadType.AUTH)).toBeUndefined();
    expect(findPayloads(msg.payloads, PayloadType.N).map((n) => n.notifyType)).toEqual([16388, 16389]);
  });

  it('decoded byte fields are views of the input (documented aliasing)', () => {
    const input = Buffer.from(IKE_SA_INIT);
    const msg = expectOk(decodeMessage(input));
    input[28 + 48 + 8] = 0x00; // first octet of the KE data
    expect(findPayload(msg.payloads, PayloadType.KE)!.keData[0]).toBe(0x00);
  });

  it('an IKE_AUTH request is HDR + SK, and the SK body decodes as a chain with absolute offsets', () => {
    const inner = hex`
      27 00 00 0c  01 00 00 00  c0 00 02 01   # IDi (Next Payload 39 AUTH), ID_IPV4_ADDR 192.0.2.1
      00 00 00 0c  02 00 00 00  de ad be ef   # AUTH, PSK
    `;
    const message = hex`
      a1a2a3a4a5a6a7a8 b1b2b3b4b5b6b7b8
      2e 20 23 08  00 00 00 01  00 00 00 ${(28 + 4 + inner.length).toString(16)}
      23 00 00 ${(4 + inner.length).toString(16)}   # SK, Next Payload 35 (IDi)
      ${inner.toString('hex')}                       # (pretend NULL encryption: the body is the plaintext)
    `;
    const msg = expectOk(decodeMessage(message));
    expect(msg.payloads).toEqual([skPayload(PayloadType.IDi, inner)]);
    const sk = findPayload(msg.payloads, PayloadType.SK)!;
    const innerPayloads = expectOk(decodePayloadChain(sk.body, sk.firstInnerPayload, message.length - sk.body.length));
    expect(innerPayloads.map((p) => p.type)).toEqual([PayloadType.IDi, PayloadType.AUTH]);
    // An error inside the plaintext points into the datagram.
    const broken = Buffer.from(sk.body);
    broken[3] = 0x02;
    expectParseError(decodePayloadChain(broken, PayloadType.IDi, 32), { code: 'bad-payload-length', offset: 34, payloadType: 35 });
  });

  it('a message with an unknown critical payload decodes, and says so', () => {
    const bytes = hex`
      a1a2a3a4a5a6a7a8 b1b2b3b4b5b6b7b8
      fd 20 25 20  00 00 00 02  00 00 00 25   # Next Payload 253, INFORMATIONAL, R, Message ID 2, Length 37
      fe 80 00 05  01                          # type 253 (not understood), Next Payload 254, C=1
      00 00 00 04                              # type 254 (not understood), C=0
    `;
    const msg = expectOk(decodeMessage(bytes));
    expect(msg.payloads).toEqual([
      { unknown: true, type: 253, critical: true, body: hex`01` },
      { unknown: true, type: 254, critical: false, body: Buffer.alloc(0) },
    ]);
    // RFC 7296 2.5: reject with UNSUPPORTED_CRITICAL_PAYLOAD, Notification Data 253.
    expect(firstUnsupportedCriticalPayload(msg.payloads)).toBe(253);
    expect(encodeMessage(msg).equals(bytes)).toBe(true);
  });
});

describe('IKE message errors', () => {
  it('a truncated message is a ParseError at every length', () => {
    for (let n = 0; n < IKE_SA_INIT.length; n++) {
      expect(decodeMessage(IKE_SA_INIT.subarray(0, n)).ok).toBe(false);
    }
  });

  it('header Length that cuts the chain short is bad-header-length, even if the chain would fit', () => {
    const bytes = Buffer.from(IKE_SA_INIT);
    bytes.writeUInt32BE(bytes.length - 28, 24);
    expectParseError(decodeMessage(bytes), { code: 'bad-header-length', offset: 24, payloadType: undefined });
  });

  it('an error in a payload carries that payload type and an absolute offset', () => {
    const bytes = Buffer.from(IKE_SA_INIT);
    bytes.writeUInt16BE(15, 186); // first N payload (@184): Payload Length 15, so a 7-octet hash
    expectParseError(decodeMessage(bytes), { code: 'bad-notify-data', offset: 192, payloadType: PayloadType.N });
  });
});

describe('firstUnsupportedCriticalPayload', () => {
  it('is undefined without unknown critical payloads', () => {
    expect(firstUnsupportedCriticalPayload(IKE_SA_INIT_MODEL.payloads)).toBeUndefined();
  });
});
