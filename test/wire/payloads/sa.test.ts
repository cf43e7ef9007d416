import { describe, expect, it } from 'vitest';
import {
  decodePayloadChain,
  DhId,
  EncrId,
  encodePayloadChain,
  IntegId,
  keyLengthOf,
  PayloadType,
  PrfId,
  ProtocolId,
  TransformType,
  transform,
  type SaPayload,
} from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';
import { withU16, withU8 } from '../mutate.js';

/** Payloads in these tests sit right after a 28-octet IKE header, so offsets are absolute. */
const BASE = 28;
const SA = PayloadType.SA;

// RFC 7296 3.3: one IKE proposal, AES-CBC-256 / HMAC-SHA2-256 PRF / HMAC-SHA2-256-128 / ECP-256.
const IKE_SA = hex`
  00 00 00 30    # generic header: Next Payload 0, C 0, Payload Length 48
  00 00 00 2c    # Proposal: Last Substruc 0 (last), RESERVED, Proposal Length 44       @32
  01 01 00 04    # Proposal Num 1, Protocol ID 1 (IKE), SPI Size 0, Num Transforms 4   @36
  03 00 00 0c    # Transform: Last Substruc 3 (more), RESERVED, Transform Length 12    @40
  01 00 00 0c    #   Transform Type 1 (ENCR), RESERVED, Transform ID 12 (ENCR_AES_CBC)
  80 0e 01 00    #   Attribute AF=1 (TV), type 14 KEY_LENGTH, value 256
  03 00 00 08    # Transform, more, length 8                                           @52
  02 00 00 05    #   PRF, PRF_HMAC_SHA2_256
  03 00 00 08    # Transform, more, length 8                                           @60
  03 00 00 0c    #   INTEG, AUTH_HMAC_SHA2_256_128
  00 00 00 08    # Transform, last, length 8                                           @68
  04 00 00 13    #   DH, 19 (ECP_256)
`;

const IKE_SA_MODEL: SaPayload = {
  type: SA,
  proposals: [
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
  ],
};

function decodeOne(bytes: Buffer) {
  return decodePayloadChain(bytes, SA, BASE);
}

describe('SA payload (RFC 7296 3.3)', () => {
  it('decodes proposal, transforms and the KEY_LENGTH attribute in TV form', () => {
    const [sa] = expectOk(decodeOne(IKE_SA));
    expect(sa).toEqual(IKE_SA_MODEL);
    expect(keyLengthOf(IKE_SA_MODEL.proposals[0]!.transforms[0]!)).toBe(256);
    expect(keyLengthOf(IKE_SA_MODEL.proposals[0]!.transforms[1]!)).toBeUndefined();
  });

  it('encodes to the same bytes', () => {
    const { firstPayloadType, bytes } = encodePayloadChain([IKE_SA_MODEL]);
    expect(firstPayloadType).toBe(SA);
    expect(bytes.equals(IKE_SA)).toBe(true);
  });

  it('handles several proposals, a 4-octet ESP SPI, TLV attributes and RESERVED octets', () => {
    const bytes = hex`
      00 00 00 3c      # SA, length 60
      02 00 00 18      # Proposal, Last Substruc 2 (more), length 24
      01 03 04 01      #   Num 1, ESP, SPI Size 4, 1 transform
      c0 ff ee 01      #   SPI
      00 00 00 0c      #   Transform, last, length 12
      01 00 00 14      #     ENCR_AES_GCM_16
      80 0e 00 80      #     KEY_LENGTH 128 (TV)
      00 7f 00 20      # Proposal, last, RESERVED 0x7f, length 32
      02 03 04 02      #   Num 2, ESP, SPI Size 4, 2 transforms
      c0 ff ee 02
      03 01 00 0c      #   Transform, more, RESERVED 1, length 12
      01 02 00 0c      #     ENCR, RESERVED 2, ENCR_AES_CBC
      00 63 00 00      #     Attribute AF=0 (TLV), type 99, length 0
      00 00 00 08      #   Transform, last
      05 00 00 00      #     ESN, NO_ESN
    `;
    const [sa] = expectOk(decodeOne(bytes));
    expect(sa).toEqual({
      type: SA,
      proposals: [
        {
          proposalNum: 1,
          protocolId: ProtocolId.ESP,
          spi: hex`c0ffee01`,
          transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 128)],
        },
        {
          proposalNum: 2,
          protocolId: ProtocolId.ESP,
          spi: hex`c0ffee02`,
          reserved: 0x7f,
          transforms: [
            {
              transformType: TransformType.ENCR,
              transformId: EncrId.ENCR_AES_CBC,
              reserved: 1,
              reserved2: 2,
              attributes: [{ format: 'TLV', attributeType: 99, value: Buffer.alloc(0) }],
            },
            { transformType: TransformType.ESN, transformId: 0, attributes: [] },
          ],
        },
      ],
    });
    expect(encodePayloadChain([sa!]).bytes.equals(bytes)).toBe(true);
  });

  it('keeps a TLV attribute with a value', () => {
    const withValue = hex`
      00 00 00 1a   # SA, length 26
      00 00 00 16   # Proposal, last, length 22
      01 01 00 01
      00 00 00 0e   # Transform, last, length 14
      01 00 00 0c
      12 34 00 02   # TLV attribute type 0x1234, length 2
      ab cd
    `;
    const [sa] = expectOk(decodeOne(withValue)) as [SaPayload];
    expect(sa.proposals[0]!.transforms[0]!.attributes).toEqual([
      { format: 'TLV', attributeType: 0x1234, value: hex`abcd` },
    ]);
    expect(encodePayloadChain([sa]).bytes.equals(withValue)).toBe(true);
  });

  describe('errors', () => {
    it('an SA payload without proposals is no-proposals', () => {
      expectParseError(decodeOne(hex`00 00 00 04`), { code: 'no-proposals', offset: 32, payloadType: SA });
    });

    it('Proposal Length beyond the payload is length-mismatch at the Proposal Length field', () => {
      expectParseError(decodeOne(withU16(IKE_SA, BASE, 34, 48)), { code: 'length-mismatch', offset: 34, payloadType: SA });
    });

    it('Proposal Length below the proposal header is length-mismatch', () => {
      expectParseError(decodeOne(withU16(IKE_SA, BASE, 34, 7)), { code: 'length-mismatch', offset: 34, payloadType: SA });
    });

    it('Proposal lengths that do not sum to the payload length are length-mismatch', () => {
      // Proposal Length 40 leaves 4 octets after the proposal that says it is the last one.
      const fixed = withU16(IKE_SA, BASE, 34, 40);
      expectParseError(decodeOne(fixed), { code: 'length-mismatch', offset: 32, payloadType: SA });
    });

    it('Last Substruc 2 on the only proposal is length-mismatch; 1 is bad-last-substruc', () => {
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 32, 2)), { code: 'length-mismatch', offset: 32, payloadType: SA });
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 32, 1)), { code: 'bad-last-substruc', offset: 32, payloadType: SA });
    });

    it('Num Transforms that disagrees with the transforms present is count-mismatch', () => {
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 39, 3)), { code: 'count-mismatch', offset: 39, payloadType: SA });
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 39, 5)), { code: 'count-mismatch', offset: 39, payloadType: SA });
    });

    it('a middle transform marked last, or a last one marked more, is length-mismatch', () => {
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 52, 0)), { code: 'length-mismatch', offset: 52, payloadType: SA });
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 68, 3)), { code: 'length-mismatch', offset: 68, payloadType: SA });
      // 2 means "a Proposal follows", not a Transform.
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 40, 2)), { code: 'bad-last-substruc', offset: 40, payloadType: SA });
    });

    it('Transform Length beyond the proposal, or below 8, is length-mismatch', () => {
      expectParseError(decodeOne(withU16(IKE_SA, BASE, 70, 13)), { code: 'length-mismatch', offset: 70, payloadType: SA });
      expectParseError(decodeOne(withU16(IKE_SA, BASE, 42, 4)), { code: 'length-mismatch', offset: 42, payloadType: SA });
    });

    it('a TLV attribute longer than its transform is length-mismatch at the Attribute Length', () => {
      // AF=0: the KEY_LENGTH value 0x0100 becomes an Attribute Length of 256.
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 48, 0x00)), { code: 'length-mismatch', offset: 50, payloadType: SA });
    });

    it('SPI Size beyond the proposal is truncated', () => {
      expectParseError(decodeOne(withU8(IKE_SA, BASE, 38, 200)), { code: 'truncated', offset: 40, payloadType: SA });
    });

    it('a truncated TV attribute is truncated at its end', () => {
      // Transform Length 10: the attribute type fits, its 2-octet value does not.
      const bytes = hex`00 00 00 16  00 00 00 12  01 01 00 01  00 00 00 0a  01 00 00 0c  80 0e`;
      expectParseError(decodeOne(bytes), { code: 'truncated', offset: 50, payloadType: SA });
    });
  });

  it('refuses to encode an SA payload with no proposals', () => {
    expect(() => encodePayloadChain([{ type: SA, proposals: [] }])).toThrow(RangeError);
  });
});
