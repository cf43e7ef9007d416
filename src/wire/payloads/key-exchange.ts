/**
 * RFC 7296 3.4: Key Exchange payload (KE).
 *
 *   |   Diffie-Hellman Group Num    |           RESERVED            |
 *   ~                       Key Exchange Data                       ~
 *
 * Empty Key Exchange Data is rejected here (there is no group with an empty public value);
 * whether the length matches the group is the crypto layer's check (RFC 7296 3.4: "the length
 * of the Diffie-Hellman public value ... MUST be equal to the length of the prime modulus").
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface KePayload extends PayloadHeaderFields {
  type: typeof PayloadType.KE;
  /** DhId registry value (Transform Type 4). */
  dhGroup: number;
  keData: Buffer;
  /** The 2 RESERVED octets; omitted when zero. */
  reserved?: number;
}

export function decodeKeBody(r: ByteReader): KePayload {
  const dhGroup = r.u16();
  const reserved = r.u16();
  if (r.atEnd) r.fail('empty-ke-data', 'KE payload without Key Exchange Data');
  const p: KePayload = { type: PayloadType.KE, dhGroup, keData: r.rest() };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

export function keBodyLength(p: KePayload): number {
  return 4 + p.keData.length;
}

export function writeKeBody(w: ByteWriter, p: KePayload): void {
  w.u16(p.dhGroup, 'Diffie-Hellman Group Num');
  w.u16(p.reserved ?? 0, 'KE RESERVED');
  w.bytes(p.keData);
}

export function kePayload(dhGroup: number, keData: Buffer): KePayload {
  return { type: PayloadType.KE, dhGroup, keData };
}
