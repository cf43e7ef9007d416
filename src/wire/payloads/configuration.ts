/**
 * RFC 7296 3.15: Configuration payload (CP).
 *
 *   |   CFG Type    |                    RESERVED                   |
 *   ~                   Configuration Attributes                    ~
 *
 * 3.15.1 Configuration Attribute:
 *   |R|         Attribute Type      |            Length             |
 *   ~                             Value                             ~
 *
 * Attribute values stay bytes (INTERNAL_IP4_ADDRESS is 0 or 4 octets, INTERNAL_IP6_SUBNET 17,
 * ...): interpreting them is the configuration layer's job, and unknown attributes round-trip.
 */
import { MAX_CONFIGURATION_ATTRIBUTES } from '../decode-limits.js';
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

const R_BIT = 0x8000;

export interface ConfigurationAttribute {
  /** 15-bit Configuration Attribute Type (IANA "IKEv2 Configuration Payload Attribute Types"). */
  attributeType: number;
  value: Buffer;
  /** The R bit (RESERVED); omitted when zero. */
  reserved?: number;
}

export interface CpPayload extends PayloadHeaderFields {
  type: typeof PayloadType.CP;
  /** CfgType registry value. */
  cfgType: number;
  attributes: ConfigurationAttribute[];
  /** The 3 RESERVED octets as a 24-bit number; omitted when zero. */
  reserved?: number;
}

export function decodeCpBody(r: ByteReader): CpPayload {
  const cfgType = r.u8();
  const reserved = r.u24();
  const attributes: ConfigurationAttribute[] = [];
  while (!r.atEnd) {
    if (attributes.length === MAX_CONFIGURATION_ATTRIBUTES) {
      r.fail('too-many-substructures', `more than ${MAX_CONFIGURATION_ATTRIBUTES} Configuration Attributes in one CP payload`);
    }
    const typeField = r.u16();
    const lengthOffset = r.offset;
    const length = r.u16();
    if (length > r.remaining) {
      r.fail('length-mismatch', `Configuration Attribute Length ${length} exceeds the ${r.remaining} octets left`, lengthOffset);
    }
    const a: ConfigurationAttribute = { attributeType: typeField & ~R_BIT, value: r.bytes(length) };
    if ((typeField & R_BIT) !== 0) a.reserved = 1;
    attributes.push(a);
  }
  const p: CpPayload = { type: PayloadType.CP, cfgType, attributes };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

export function cpBodyLength(p: CpPayload): number {
  let n = 4;
  for (const a of p.attributes) n += 4 + a.value.length;
  return n;
}

export function writeCpBody(w: ByteWriter, p: CpPayload): void {
  w.u8(p.cfgType, 'CFG Type');
  w.u24(p.reserved ?? 0, 'CP RESERVED');
  for (const a of p.attributes) {
    if (a.attributeType > 0x7fff) throw new RangeError(`Attribute Type ${a.attributeType} does not fit 15 bits`);
    if (a.reserved !== undefined && a.reserved !== 0 && a.reserved !== 1) throw new RangeError('R bit is 0 or 1');
    w.u16((a.reserved ? R_BIT : 0) | a.attributeType);
    w.u16(a.value.length, 'Configuration Attribute Length');
    w.bytes(a.value);
  }
}

export function cpPayload(cfgType: number, attributes: ConfigurationAttribute[]): CpPayload {
  return { type: PayloadType.CP, cfgType, attributes };
}
