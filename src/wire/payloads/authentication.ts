/**
 * RFC 7296 3.8: Authentication payload (AUTH).
 *
 *   | Auth Method   |                RESERVED                       |
 *   ~                      Authentication Data                      ~
 *
 * Authentication Data is opaque here (for RFC 7427 Digital Signature it starts with the
 * AlgorithmIdentifier; the crypto layer reads it).
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface AuthPayload extends PayloadHeaderFields {
  type: typeof PayloadType.AUTH;
  /** AuthMethod registry value. */
  method: number;
  data: Buffer;
  /** The 3 RESERVED octets as a 24-bit number; omitted when zero. */
  reserved?: number;
}

export function decodeAuthBody(r: ByteReader): AuthPayload {
  const method = r.u8();
  const reserved = r.u24();
  const p: AuthPayload = { type: PayloadType.AUTH, method, data: r.rest() };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

export function authBodyLength(p: AuthPayload): number {
  return 4 + p.data.length;
}

export function writeAuthBody(w: ByteWriter, p: AuthPayload): void {
  w.u8(p.method, 'Auth Method');
  w.u24(p.reserved ?? 0, 'AUTH RESERVED');
  w.bytes(p.data);
}

export function authPayload(method: number, data: Buffer): AuthPayload {
  return { type: PayloadType.AUTH, method, data };
}
