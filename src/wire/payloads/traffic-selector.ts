/**
 * RFC 7296 3.13: Traffic Selector payloads (TSi, TSr).
 *
 *   | Number of TSs |                 RESERVED                      |
 *   ~                       <Traffic Selectors>                     ~
 *
 * 3.13.1 Traffic Selector substructure:
 *   |   TS Type     |IP Protocol ID*|       Selector Length         |
 *   |           Start Port*         |           End Port*           |
 *   ~                         Starting Address*                     ~
 *   ~                         Ending Address*                       ~
 *   (* for TS_IPV4_ADDR_RANGE and TS_IPV6_ADDR_RANGE)
 *
 * Address ranges are typed (addresses as 4/16-octet Buffers; `formatIp` gives text). Every other
 * TS Type (TS_FC_ADDR_RANGE, TS_SECLABEL, ...) keeps octet 1 and the bytes after the 4-octet
 * selector header opaque: all TS types share TS Type at octet 0 and Selector Length at octets 2-3.
 */
import { PayloadType, TsType } from '../iana.js';
import { parseIp } from '../ip-address.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

const SELECTOR_HEADER_LENGTH = 4;
/** RFC 7296 3.13.1: Selector Length of TS_IPV4_ADDR_RANGE is 16, of TS_IPV6_ADDR_RANGE 40. */
const IPV4_RANGE_LENGTH = 16;
const IPV6_RANGE_LENGTH = 40;

export interface AddressRangeSelector {
  tsType: typeof TsType.TS_IPV4_ADDR_RANGE | typeof TsType.TS_IPV6_ADDR_RANGE;
  /** IP protocol number; 0 means any protocol. */
  ipProtocolId: number;
  startPort: number;
  endPort: number;
  /** 4 octets for TS_IPV4_ADDR_RANGE, 16 for TS_IPV6_ADDR_RANGE. */
  startAddress: Buffer;
  endAddress: Buffer;
}

export interface OpaqueSelector {
  /** Any TS Type other than the two address ranges. */
  tsType: number;
  /** Octet 1 of the selector (RESERVED for TS_SECLABEL, RFC 9478). */
  octet1: number;
  /** Everything after the 4-octet selector header. */
  data: Buffer;
}

export type TrafficSelector = AddressRangeSelector | OpaqueSelector;

export interface TsPayload extends PayloadHeaderFields {
  type: typeof PayloadType.TSi | typeof PayloadType.TSr;
  selectors: TrafficSelector[];
  /** The 3 RESERVED octets as a 24-bit number; omitted when zero. */
  reserved?: number;
}

export function isAddressRange(ts: TrafficSelector): ts is AddressRangeSelector {
  return ts.tsType === TsType.TS_IPV4_ADDR_RANGE || ts.tsType === TsType.TS_IPV6_ADDR_RANGE;
}

export function decodeTsBody(r: ByteReader, type: TsPayload['type']): TsPayload {
  const countOffset = r.offset;
  const count = r.u8();
  const reserved = r.u24();
  const selectors: TrafficSelector[] = [];
  while (!r.atEnd) {
    const start = r.offset;
    const tsType = r.u8();
    const octet1 = r.u8();
    const length = r.u16();
    if (length < SELECTOR_HEADER_LENGTH || length - SELECTOR_HEADER_LENGTH > r.remaining) {
      r.fail('length-mismatch', `Selector Length ${length} does not fit the ${r.remaining + 4} octets left`, start + 2);
    }
    const sr = r.sub(length - SELECTOR_HEADER_LENGTH);
    if (tsType === TsType.TS_IPV4_ADDR_RANGE || tsType === TsType.TS_IPV6_ADDR_RANGE) {
      const expected = tsType === TsType.TS_IPV4_ADDR_RANGE ? IPV4_RANGE_LENGTH : IPV6_RANGE_LENGTH;
      if (length !== expected) {
        r.fail('bad-selector-length', `TS Type ${tsType} has Selector Length ${expected}, not ${length}`, start + 2);
      }
      const addressLength = (expected - 8) / 2;
      selectors.push({
        tsType,
        ipProtocolId: octet1,
        startPort: sr.u16(),
        endPort: sr.u16(),
        startAddress: sr.bytes(addressLength),
        endAddress: sr.bytes(addressLength),
      });
    } else {
      selectors.push({ tsType, octet1, data: sr.rest() });
    }
  }
  if (selectors.length !== count) {
    r.fail('count-mismatch', `Number of TSs is ${count} but the payload holds ${selectors.length}`, countOffset);
  }
  const p: TsPayload = { type, selectors };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

function selectorLength(ts: TrafficSelector): number {
  if (isAddressRange(ts)) return 8 + ts.startAddress.length + ts.endAddress.length;
  return SELECTOR_HEADER_LENGTH + ts.data.length;
}

export function tsBodyLength(p: TsPayload): number {
  let n = 4;
  for (const ts of p.selectors) n += selectorLength(ts);
  return n;
}

export function writeTsBody(w: ByteWriter, p: TsPayload): void {
  w.u8(p.selectors.length, 'Number of TSs');
  w.u24(p.reserved ?? 0, 'TS RESERVED');
  for (const ts of p.selectors) {
    w.u8(ts.tsType, 'TS Type');
    if (isAddressRange(ts)) {
      const want = ts.tsType === TsType.TS_IPV4_ADDR_RANGE ? 4 : 16;
      if (ts.startAddress.length !== want || ts.endAddress.length !== want) {
        throw new RangeError(`TS Type ${ts.tsType} addresses must be ${want} octets`);
      }
      w.u8(ts.ipProtocolId, 'IP Protocol ID');
      w.u16(selectorLength(ts), 'Selector Length');
      w.u16(ts.startPort, 'Start Port');
      w.u16(ts.endPort, 'End Port');
      w.bytes(ts.startAddress);
      w.bytes(ts.endAddress);
    } else {
      w.u8(ts.octet1, 'TS octet 1');
      w.u16(selectorLength(ts), 'Selector Length');
      w.bytes(ts.data);
    }
  }
}

// ---- construction ----

export interface AddressRangeOptions {
  /** IP protocol number, 0 (any) by default. */
  ipProtocolId?: number;
  /** 0 by default. */
  startPort?: number;
  /** 65535 by default. */
  endPort?: number;
}

/**
 * An address-range selector from text addresses (both IPv4 or both IPv6). Throws on bad input:
 * builders are for the daemon's own configuration, not for peer data.
 */
export function addressRange(start: string, end: string, options: AddressRangeOptions = {}): AddressRangeSelector {
  const startAddress = parseIp(start);
  const endAddress = parseIp(end);
  if (!startAddress || !endAddress || startAddress.length !== endAddress.length) {
    throw new RangeError(`not an address range of one family: ${start} - ${end}`);
  }
  return {
    tsType: startAddress.length === 4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE,
    ipProtocolId: options.ipProtocolId ?? 0,
    startPort: options.startPort ?? 0,
    endPort: options.endPort ?? 0xffff,
    startAddress,
    endAddress,
  };
}

export function tsPayload(type: TsPayload['type'], selectors: TrafficSelector[]): TsPayload {
  return { type, selectors };
}
