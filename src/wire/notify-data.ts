/**
 * Typed Notification Data for the Notify types ikekm acts on.
 *
 * `notifyDataOf(n)` is the typed view of a Notify payload, `notifyPayload(d)` its inverse.
 * `checkNotifyFields` is the shared rule set: the decoder uses it to reject a Notify whose data
 * does not fit its type, and `notifyPayload` uses it to refuse to build one.
 *
 * Only Notification Data (and, for REKEY_SA, the SPI) is checked. The SPI of notifications
 * about the IKE SA "MUST be zero" length (RFC 7296 3.10) but the data is still meaningful when a
 * peer gets that wrong, so the typed view ignores it and the payload model keeps it.
 */
import { assertNever } from './assert-never.js';
import { PayloadType } from './iana.js';
import { NotifyType } from './notify-types.js';

/** RFC 7296 2.23: NAT_DETECTION_*_IP data is a SHA-1 digest. */
export const NAT_DETECTION_HASH_LENGTH = 20;
/** RFC 7296 2.6: COOKIE data is between 1 and 64 octets, inclusive. */
export const COOKIE_MIN_LENGTH = 1;
export const COOKIE_MAX_LENGTH = 64;

/** Status notifies that carry no data: their presence is the message. */
export type FlagNotifyName =
  | 'INITIAL_CONTACT' // RFC 7296 3.10.1
  | 'USE_TRANSPORT_MODE' // RFC 7296 1.3.1, 3.10.1
  | 'ESP_TFC_PADDING_NOT_SUPPORTED' // RFC 7296 1.3.1, 3.10.1
  | 'NON_FIRST_FRAGMENTS_ALSO' // RFC 7296 1.3.1, 3.10.1
  | 'MOBIKE_SUPPORTED' // RFC 4555: announced in IKE_AUTH, no data
  | 'IKEV2_FRAGMENTATION_SUPPORTED'; // RFC 7383 2.3: announced in IKE_SA_INIT, no data

export type NotifyData =
  /** RFC 7296 2.23: SHA-1(SPIi | SPIr | IP | Port) of the sender's source address. */
  | { name: 'NAT_DETECTION_SOURCE_IP'; hash: Buffer }
  /** RFC 7296 2.23: the same digest over the destination address. */
  | { name: 'NAT_DETECTION_DESTINATION_IP'; hash: Buffer }
  /** RFC 7296 2.6: 1..64 octets chosen by the responder. */
  | { name: 'COOKIE'; cookie: Buffer }
  /** RFC 7296 1.2 / 3.10.1: the 2-octet D-H group number the responder accepts, big endian. */
  | { name: 'INVALID_KE_PAYLOAD'; dhGroup: number }
  /** RFC 7296 1.3.3 / 3.10.1: the SPI field names the Child SA being rekeyed; no data. */
  | { name: 'REKEY_SA'; protocolId: number; spi: Buffer }
  /** RFC 7296 3.10.1: the window size, 4 octets. */
  | { name: 'SET_WINDOW_SIZE'; windowSize: number }
  /** RFC 7427 4: a list of 16-bit HashAlgorithm identifiers. */
  | { name: 'SIGNATURE_HASH_ALGORITHMS'; hashAlgorithms: number[] }
  | { name: FlagNotifyName }
  /** Any other type: raw fields. */
  | { name: 'other'; notifyType: number; protocolId: number; spi: Buffer; data: Buffer };

const FLAG_NOTIFIES: ReadonlyMap<number, FlagNotifyName> = new Map<number, FlagNotifyName>([
  [NotifyType.INITIAL_CONTACT, 'INITIAL_CONTACT'],
  [NotifyType.USE_TRANSPORT_MODE, 'USE_TRANSPORT_MODE'],
  [NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED, 'ESP_TFC_PADDING_NOT_SUPPORTED'],
  [NotifyType.NON_FIRST_FRAGMENTS_ALSO, 'NON_FIRST_FRAGMENTS_ALSO'],
  [NotifyType.MOBIKE_SUPPORTED, 'MOBIKE_SUPPORTED'],
  [NotifyType.IKEV2_FRAGMENTATION_SUPPORTED, 'IKEV2_FRAGMENTATION_SUPPORTED'],
]);

/**
 * The raw fields of a Notify payload (RFC 7296 3.10) that the rules and the typed view read.
 * payloads/notify.ts builds its NotifyPayload on these, so the dependency runs one way.
 */
export interface NotifyFields {
  /** ProtocolId of the SA the SPI names; 0 when there is no SPI (RFC 7296 3.10). */
  protocolId: number;
  /** Empty for notifications about the IKE SA; SPI Size is derived from it. */
  spi: Buffer;
  /** NotifyType registry value (kept as a number: unknown types still decode). */
  notifyType: number;
  data: Buffer;
}

export interface NotifyProblem {
  field: 'spi' | 'data';
  reason: string;
}

/** Why these fields do not fit their Notify type, or undefined when they do. */
export function checkNotifyFields(n: NotifyFields): NotifyProblem | undefined {
  const len = n.data.length;
  const data = (reason: string): NotifyProblem => ({ field: 'data', reason });
  switch (n.notifyType) {
    case NotifyType.NAT_DETECTION_SOURCE_IP:
    case NotifyType.NAT_DETECTION_DESTINATION_IP:
      return len === NAT_DETECTION_HASH_LENGTH ? undefined : data(`NAT detection hash is ${len} octets, not 20`);
    case NotifyType.COOKIE:
      return len >= COOKIE_MIN_LENGTH && len <= COOKIE_MAX_LENGTH
        ? undefined
        : data(`COOKIE is ${len} octets, not 1..64`);
    case NotifyType.INVALID_KE_PAYLOAD:
      return len === 2 ? undefined : data(`INVALID_KE_PAYLOAD data is ${len} octets, not 2`);
    case NotifyType.SET_WINDOW_SIZE:
      return len === 4 ? undefined : data(`SET_WINDOW_SIZE data is ${len} octets, not 4`);
    case NotifyType.SIGNATURE_HASH_ALGORITHMS:
      return len % 2 === 0 ? undefined : data(`SIGNATURE_HASH_ALGORITHMS data is ${len} octets, not a list of 2-octet ids`);
    case NotifyType.REKEY_SA:
      if (n.spi.length === 0) return { field: 'spi', reason: 'REKEY_SA without the SPI of the SA being rekeyed' };
      return len === 0 ? undefined : data(`REKEY_SA carries ${len} octets of data, expected none`);
    default: {
      const flag = FLAG_NOTIFIES.get(n.notifyType);
      if (flag !== undefined && len !== 0) return data(`${flag} carries ${len} octets of data, expected none`);
      return undefined;
    }
  }
}

/**
 * The typed view of a Notify payload; undefined only for a hand-built payload whose data does
 * not fit its type (a decoded payload always fits).
 */
export function notifyDataOf(n: NotifyFields): NotifyData | undefined {
  if (checkNotifyFields(n)) return undefined;
  const d = n.data;
  switch (n.notifyType) {
    case NotifyType.NAT_DETECTION_SOURCE_IP:
      return { name: 'NAT_DETECTION_SOURCE_IP', hash: d };
    case NotifyType.NAT_DETECTION_DESTINATION_IP:
      return { name: 'NAT_DETECTION_DESTINATION_IP', hash: d };
    case NotifyType.COOKIE:
      return { name: 'COOKIE', cookie: d };
    case NotifyType.INVALID_KE_PAYLOAD:
      return { name: 'INVALID_KE_PAYLOAD', dhGroup: (d[0]! << 8) | d[1]! };
    case NotifyType.SET_WINDOW_SIZE:
      return { name: 'SET_WINDOW_SIZE', windowSize: d.readUInt32BE(0) };
    case NotifyType.SIGNATURE_HASH_ALGORITHMS: {
      const hashAlgorithms: number[] = [];
      for (let i = 0; i < d.length; i += 2) hashAlgorithms.push((d[i]! << 8) | d[i + 1]!);
      return { name: 'SIGNATURE_HASH_ALGORITHMS', hashAlgorithms };
    }
    case NotifyType.REKEY_SA:
      return { name: 'REKEY_SA', protocolId: n.protocolId, spi: n.spi };
    default: {
      const flag = FLAG_NOTIFIES.get(n.notifyType);
      if (flag !== undefined) return { name: flag };
      return { name: 'other', notifyType: n.notifyType, protocolId: n.protocolId, spi: n.spi, data: d };
    }
  }
}

/** A Notify payload for typed data; throws a RangeError when the data does not fit (a caller bug). */
export function notifyPayload(d: NotifyData): NotifyFields & { type: typeof PayloadType.N } {
  const fields = notifyFieldsOf(d);
  const problem = checkNotifyFields(fields);
  if (problem) throw new RangeError(problem.reason);
  return { type: PayloadType.N, ...fields };
}

const EMPTY = Buffer.alloc(0);

function notifyFieldsOf(d: NotifyData): NotifyFields {
  const ike = (notifyType: number, data: Buffer = EMPTY): NotifyFields => ({ protocolId: 0, spi: EMPTY, notifyType, data });
  switch (d.name) {
    case 'NAT_DETECTION_SOURCE_IP':
      return ike(NotifyType.NAT_DETECTION_SOURCE_IP, d.hash);
    case 'NAT_DETECTION_DESTINATION_IP':
      return ike(NotifyType.NAT_DETECTION_DESTINATION_IP, d.hash);
    case 'COOKIE':
      return ike(NotifyType.COOKIE, d.cookie);
    case 'INVALID_KE_PAYLOAD': {
      const data = Buffer.alloc(2);
      data.writeUInt16BE(d.dhGroup);
      return ike(NotifyType.INVALID_KE_PAYLOAD, data);
    }
    case 'SET_WINDOW_SIZE': {
      const data = Buffer.alloc(4);
      data.writeUInt32BE(d.windowSize);
      return ike(NotifyType.SET_WINDOW_SIZE, data);
    }
    case 'SIGNATURE_HASH_ALGORITHMS': {
      const data = Buffer.alloc(2 * d.hashAlgorithms.length);
      d.hashAlgorithms.forEach((id, i) => data.writeUInt16BE(id, 2 * i));
      return ike(NotifyType.SIGNATURE_HASH_ALGORITHMS, data);
    }
    case 'REKEY_SA':
      return { protocolId: d.protocolId, spi: d.spi, notifyType: NotifyType.REKEY_SA, data: EMPTY };
    case 'INITIAL_CONTACT':
    case 'USE_TRANSPORT_MODE':
    case 'ESP_TFC_PADDING_NOT_SUPPORTED':
    case 'NON_FIRST_FRAGMENTS_ALSO':
    case 'MOBIKE_SUPPORTED':
    case 'IKEV2_FRAGMENTATION_SUPPORTED':
      return ike(NotifyType[d.name]);
    case 'other':
      return { protocolId: d.protocolId, spi: d.spi, notifyType: d.notifyType, data: d.data };
    default:
      return assertNever(d, 'notify data');
  }
}
