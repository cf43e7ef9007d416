import { describe, expect, it } from 'vitest';
import {
  decodePayloadChain,
  encodePayloadChain,
  identityOf,
  idPayload,
  IdType,
  PayloadType,
  type Identity,
  type IdPayload,
} from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;

function decodeId(bytes: Buffer, type: number = PayloadType.IDi): IdPayload {
  const [p] = expectOk(decodePayloadChain(bytes, type, BASE));
  return p as IdPayload;
}

describe('IDi / IDr payloads (RFC 7296 3.5)', () => {
  it('ID_IPV4_ADDR', () => {
    const bytes = hex`
      00 00 00 0c   # generic header, length 12
      01 00 00 00   # ID Type 1 (ID_IPV4_ADDR), RESERVED
      c0 00 02 01   # 192.0.2.1
    `;
    const p = decodeId(bytes);
    expect(p).toEqual({ type: PayloadType.IDi, idType: IdType.ID_IPV4_ADDR, data: hex`c0000201` });
    expect(identityOf(p)).toEqual({ kind: 'ipv4', address: '192.0.2.1' });
    expect(idPayload(PayloadType.IDi, { kind: 'ipv4', address: '192.0.2.1' })).toEqual(p);
  });

  it('ID_IPV6_ADDR as IDr', () => {
    const bytes = hex`
      00 00 00 18   # length 24
      05 00 00 00   # ID_IPV6_ADDR
      20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # 2001:db8::1
    `;
    const p = decodeId(bytes, PayloadType.IDr);
    expect(p.type).toBe(PayloadType.IDr);
    expect(identityOf(p)).toEqual({ kind: 'ipv6', address: '2001:db8::1' });
    expect(encodePayloadChain([idPayload(PayloadType.IDr, identityOf(p))]).bytes.equals(bytes)).toBe(true);
  });

  it('ID_FQDN and ID_RFC822_ADDR are strings without terminator', () => {
    const fqdn = hex`00 00 00 17  02 00 00 00  ${Buffer.from('vpn.example.com').toString('hex')}`;
    expect(identityOf(decodeId(fqdn))).toEqual({ kind: 'fqdn', fqdn: 'vpn.example.com' });
    const mail = hex`00 00 00 19  03 00 00 00  ${Buffer.from('alice@example.com').toString('hex')}`;
    expect(identityOf(decodeId(mail))).toEqual({ kind: 'rfc822', rfc822: 'alice@example.com' });
  });

  it('ID_KEY_ID, DER forms and ID_NULL stay bytes', () => {
    expect(identityOf(decodeId(hex`00 00 00 0a  0b 00 00 00  01 02`))).toEqual({ kind: 'key-id', keyId: hex`0102` });
    // A DER Name: SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 (CN), UTF8String "a" } } }
    const dn = hex`30 0c 31 0a 30 08 06 03 55 04 03 0c 01 61`;
    const dnPayload = Buffer.concat([hex`00 00 00 16  09 00 00 00`, dn]);
    expect(identityOf(decodeId(dnPayload))).toEqual({ kind: 'der-asn1-dn', der: dn });
    expect(identityOf(decodeId(hex`00 00 00 09  0a 00 00 00  30`))).toEqual({ kind: 'der-asn1-gn', der: hex`30` });
    expect(identityOf(decodeId(hex`00 00 00 08  0d 00 00 00`))).toEqual({ kind: 'null' });
    expect(identityOf(decodeId(hex`00 00 00 09  0c 00 00 00  ff`))).toEqual({
      kind: 'other',
      idType: IdType.ID_FC_NAME,
      data: hex`ff`,
    });
  });

  it('keeps RESERVED and round-trips', () => {
    const bytes = hex`00 00 00 0c  01 ab cd ef  0a 00 00 01`;
    const p = decodeId(bytes);
    expect(p.reserved).toBe(0xabcdef);
    expect(encodePayloadChain([p]).bytes.equals(bytes)).toBe(true);
  });

  it('typed identities round-trip through idPayload / identityOf', () => {
    const identities: Identity[] = [
      { kind: 'ipv4', address: '10.1.2.3' },
      { kind: 'ipv6', address: 'fe80::1:2' },
      { kind: 'fqdn', fqdn: 'gw.example.org' },
      { kind: 'rfc822', rfc822: 'bob@example.org' },
      { kind: 'key-id', keyId: hex`00ff` },
      { kind: 'der-asn1-dn', der: hex`3000` },
      { kind: 'der-asn1-gn', der: hex`3000` },
      { kind: 'null' },
      { kind: 'other', idType: 200, data: hex`01` },
    ];
    for (const id of identities) expect(identityOf(idPayload(PayloadType.IDr, id))).toEqual(id);
    expect(() => idPayload(PayloadType.IDi, { kind: 'ipv4', address: '::1' })).toThrow(RangeError);
  });

  it('identityOf is total: a hand-built address of the wrong length is "other"', () => {
    expect(identityOf({ idType: IdType.ID_IPV4_ADDR, data: hex`01` })).toEqual({ kind: 'other', idType: 1, data: hex`01` });
  });

  it('an address ID of the wrong length is bad-id-data at the data', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 0d  01 00 00 00  c0 00 02 01 05`, PayloadType.IDi, BASE), {
      code: 'bad-id-data',
      offset: 36,
      payloadType: PayloadType.IDi,
    });
    expectParseError(decodePayloadChain(hex`00 00 00 0c  05 00 00 00  c0 00 02 01`, PayloadType.IDr, BASE), {
      code: 'bad-id-data',
      offset: 36,
      payloadType: PayloadType.IDr,
    });
  });

  it('an ID body shorter than its 4-octet header is truncated', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 06  01 00`, PayloadType.IDi, BASE), {
      code: 'truncated',
      offset: 33,
      payloadType: PayloadType.IDi,
    });
  });
});
