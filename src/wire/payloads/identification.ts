/**
 * RFC 7296 3.5: Identification payloads (IDi, IDr).
 *
 *   |   ID Type     |                 RESERVED                      |
 *   ~                   Identification Data                         ~
 *
 * The model keeps ID Type and the raw Identification Data (so any ID type round-trips, and
 * identities compare exactly as bytes); `identityOf` and `idPayload` are the typed view, with
 * FQDN and RFC 822 strings decoded as UTF-8. Decoding rejects ID_IPV4_ADDR and
 * ID_IPV6_ADDR data that is not 4 / 16 octets, since no typed view of it exists.
 */
import { assertNever } from '../assert-never.js';
import { IdType, PayloadType } from '../iana.js';
import { formatIp, parseIp } from '../ip-address.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface IdPayload extends PayloadHeaderFields {
  type: typeof PayloadType.IDi | typeof PayloadType.IDr;
  /** IdType registry value. */
  idType: number;
  data: Buffer;
  /** The 3 RESERVED octets as a 24-bit number; omitted when zero. */
  reserved?: number;
}

/** Typed view of an identity. DER forms stay bytes: the PKI layer parses them. */
export type Identity =
  | { kind: 'ipv4'; address: string }
  | { kind: 'ipv6'; address: string }
  /** ID_FQDN: "a fully-qualified domain name string", no terminator. */
  | { kind: 'fqdn'; fqdn: string }
  /** ID_RFC822_ADDR: "a fully-qualified RFC 822 email address string". */
  | { kind: 'rfc822'; rfc822: string }
  /** ID_KEY_ID: opaque octets for vendor-specific information. */
  | { kind: 'key-id'; keyId: Buffer }
  /** ID_DER_ASN1_DN: the binary DER encoding of an ASN.1 X.500 Distinguished Name. */
  | { kind: 'der-asn1-dn'; der: Buffer }
  /** ID_DER_ASN1_GN: the binary DER encoding of an ASN.1 X.509 GeneralName. */
  | { kind: 'der-asn1-gn'; der: Buffer }
  /** RFC 7619 ID_NULL. */
  | { kind: 'null' }
  /** Any other ID Type (e.g. ID_FC_NAME), raw. */
  | { kind: 'other'; idType: number; data: Buffer };

export function decodeIdBody(r: ByteReader, type: IdPayload['type']): IdPayload {
  const idType = r.u8();
  const reserved = r.u24();
  const dataOffset = r.offset;
  const data = r.rest();
  const expected = idType === IdType.ID_IPV4_ADDR ? 4 : idType === IdType.ID_IPV6_ADDR ? 16 : undefined;
  if (expected !== undefined && data.length !== expected) {
    r.fail('bad-id-data', `ID Type ${idType} needs ${expected} octets of address, got ${data.length}`, dataOffset);
  }
  const p: IdPayload = { type, idType, data };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

export function idBodyLength(p: IdPayload): number {
  return 4 + p.data.length;
}

export function writeIdBody(w: ByteWriter, p: IdPayload): void {
  w.u8(p.idType, 'ID Type');
  w.u24(p.reserved ?? 0, 'ID RESERVED');
  w.bytes(p.data);
}

/**
 * The typed identity of an ID payload. Total: an address type whose data has the wrong length
 * (possible only in a hand-built payload, decoding rejects it) comes back as 'other'.
 */
export function identityOf(p: Pick<IdPayload, 'idType' | 'data'>): Identity {
  const { idType, data } = p;
  switch (idType) {
    case IdType.ID_IPV4_ADDR:
      return data.length === 4 ? { kind: 'ipv4', address: formatIp(data) } : { kind: 'other', idType, data };
    case IdType.ID_IPV6_ADDR:
      return data.length === 16 ? { kind: 'ipv6', address: formatIp(data) } : { kind: 'other', idType, data };
    case IdType.ID_FQDN:
      return { kind: 'fqdn', fqdn: data.toString('utf8') };
    case IdType.ID_RFC822_ADDR:
      return { kind: 'rfc822', rfc822: data.toString('utf8') };
    case IdType.ID_KEY_ID:
      return { kind: 'key-id', keyId: data };
    case IdType.ID_DER_ASN1_DN:
      return { kind: 'der-asn1-dn', der: data };
    case IdType.ID_DER_ASN1_GN:
      return { kind: 'der-asn1-gn', der: data };
    case IdType.ID_NULL:
      return { kind: 'null' };
    default:
      return { kind: 'other', idType, data };
  }
}

/** ID Type and Identification Data for a typed identity. Throws on an unparsable address (a caller bug). */
export function encodeIdentity(identity: Identity): { idType: number; data: Buffer } {
  switch (identity.kind) {
    case 'ipv4':
    case 'ipv6': {
      const bytes = parseIp(identity.address);
      const want = identity.kind === 'ipv4' ? 4 : 16;
      if (bytes?.length !== want) throw new RangeError(`not an ${identity.kind} address: ${identity.address}`);
      return { idType: want === 4 ? IdType.ID_IPV4_ADDR : IdType.ID_IPV6_ADDR, data: bytes };
    }
    case 'fqdn':
      return { idType: IdType.ID_FQDN, data: Buffer.from(identity.fqdn, 'utf8') };
    case 'rfc822':
      return { idType: IdType.ID_RFC822_ADDR, data: Buffer.from(identity.rfc822, 'utf8') };
    case 'key-id':
      return { idType: IdType.ID_KEY_ID, data: identity.keyId };
    case 'der-asn1-dn':
      return { idType: IdType.ID_DER_ASN1_DN, data: identity.der };
    case 'der-asn1-gn':
      return { idType: IdType.ID_DER_ASN1_GN, data: identity.der };
    case 'null':
      return { idType: IdType.ID_NULL, data: Buffer.alloc(0) };
    case 'other':
      return { idType: identity.idType, data: identity.data };
    default:
      return assertNever(identity, 'identity');
  }
}

export function idPayload(type: IdPayload['type'], identity: Identity): IdPayload {
  return { type, ...encodeIdentity(identity) };
}
