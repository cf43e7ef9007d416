import { describe, expect, it } from 'vitest';
import {
  CertEncoding,
  certPayload,
  certReqAuthorityHashes,
  certReqPayload,
  decodePayloadChain,
  encodePayloadChain,
  PayloadType,
  type CertReqPayload,
} from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;

describe('CERT and CERTREQ payloads (RFC 7296 3.6, 3.7)', () => {
  it('CERT: encoding and opaque certificate data', () => {
    const bytes = hex`
      26 00 00 09   # generic header: Next Payload 38 (CERTREQ), length 9
      04            # Cert Encoding 4 (X.509 Certificate - Signature)
      30 82 01 00   # start of a DER certificate
      00 00 00 1d   # CERTREQ, last, length 29
      04            # X.509 Certificate - Signature
      ${'11'.repeat(20)}    # SHA-1 of a trusted CA's SubjectPublicKeyInfo
      ${'22'.repeat(4)}     # a partial second hash (malformed for X.509, still kept)
    `;
    const payloads = expectOk(decodePayloadChain(bytes, PayloadType.CERT, BASE));
    expect(payloads).toEqual([
      certPayload(CertEncoding.X509_SIGNATURE, hex`30820100`),
      certReqPayload(CertEncoding.X509_SIGNATURE, Buffer.from('11'.repeat(20) + '22'.repeat(4), 'hex')),
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
    expect(certReqAuthorityHashes(payloads[1] as CertReqPayload)).toBeUndefined();
  });

  it('certReqAuthorityHashes splits 20-octet hashes', () => {
    const authority = Buffer.concat([Buffer.alloc(20, 1), Buffer.alloc(20, 2)]);
    expect(certReqAuthorityHashes(certReqPayload(CertEncoding.X509_SIGNATURE, authority))).toEqual([
      Buffer.alloc(20, 1),
      Buffer.alloc(20, 2),
    ]);
    expect(certReqAuthorityHashes(certReqPayload(CertEncoding.X509_SIGNATURE, Buffer.alloc(0)))).toEqual([]);
  });

  it('an empty CERT body is truncated (no Cert Encoding)', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 04`, PayloadType.CERT, BASE), {
      code: 'truncated',
      offset: 32,
      payloadType: PayloadType.CERT,
    });
    expectParseError(decodePayloadChain(hex`00 00 00 04`, PayloadType.CERTREQ, BASE), {
      code: 'truncated',
      offset: 32,
      payloadType: PayloadType.CERTREQ,
    });
  });
});
