/**
 * RFC 7296 3.16: Extensible Authentication Protocol payload (EAP).
 *
 *   ~                       EAP Message                             ~
 *
 * with the EAP message of RFC 3748 4:
 *   |     Code      | Identifier    |           Length              |
 *   |     Type      | Type_Data...
 *
 * The message stays opaque (the EAP method is not this layer's business), but its header is
 * read and checked: at least 4 octets, and the EAP Length equals the payload's message length,
 * since the payload carries one EAP message (RFC 7296 3.16) and RFC 3748 4 Length covers the
 * whole packet.
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

const EAP_HEADER_LENGTH = 4;

/** RFC 3748 4: EAP Codes. */
export const EapCode = {
  Request: 1,
  Response: 2,
  Success: 3,
  Failure: 4,
} as const;
export type EapCode = (typeof EapCode)[keyof typeof EapCode];

export interface EapPayload extends PayloadHeaderFields {
  type: typeof PayloadType.EAP;
  /** The whole EAP packet, header included. */
  message: Buffer;
}

export interface EapHeader {
  code: number;
  identifier: number;
  length: number;
  /** The Type octet of Request/Response packets; absent for Success/Failure (4-octet packets). */
  eapType?: number;
}

export function decodeEapBody(r: ByteReader): EapPayload {
  const start = r.offset;
  const message = r.rest();
  if (message.length < EAP_HEADER_LENGTH) {
    r.fail('bad-eap-message', `EAP message of ${message.length} octets is shorter than its header`, start);
  }
  const length = (message[2]! << 8) | message[3]!;
  if (length !== message.length) {
    r.fail('bad-eap-message', `EAP Length is ${length}, payload carries ${message.length} octets`, start + 2);
  }
  return { type: PayloadType.EAP, message };
}

/** Code, Identifier, Length (and Type) of the EAP packet; undefined if it is shorter than 4 octets. */
export function eapHeaderOf(p: EapPayload): EapHeader | undefined {
  const m = p.message;
  if (m.length < EAP_HEADER_LENGTH) return undefined;
  const h: EapHeader = { code: m[0]!, identifier: m[1]!, length: (m[2]! << 8) | m[3]! };
  if (m.length > EAP_HEADER_LENGTH) h.eapType = m[4]!;
  return h;
}

export function eapBodyLength(p: EapPayload): number {
  return p.message.length;
}

export function writeEapBody(w: ByteWriter, p: EapPayload): void {
  w.bytes(p.message);
}

export function eapPayload(message: Buffer): EapPayload {
  return { type: PayloadType.EAP, message };
}
