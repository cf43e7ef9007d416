/**
 * RFC 7296 3.9: Nonce payload (Ni, Nr).
 *
 *   ~                            Nonce Data                         ~
 *
 * The codec accepts any length, including empty. "The size of the Nonce Data MUST be between
 * 16 and 256 octets, inclusive" is a rule about what a peer may send, checked by the protocol
 * layer (src/ikev2), which answers INVALID_SYNTAX; keeping it out of the codec keeps the codec
 * a pure bytes ⇄ structure mapping and lets tests build deliberately bad nonces.
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

/** RFC 7296 3.9 bounds, for the protocol layer. */
export const NONCE_MIN_LENGTH = 16;
export const NONCE_MAX_LENGTH = 256;

export interface NoncePayload extends PayloadHeaderFields {
  type: typeof PayloadType.Nonce;
  data: Buffer;
}

export function decodeNonceBody(r: ByteReader): NoncePayload {
  return { type: PayloadType.Nonce, data: r.rest() };
}

export function nonceBodyLength(p: NoncePayload): number {
  return p.data.length;
}

export function writeNonceBody(w: ByteWriter, p: NoncePayload): void {
  w.bytes(p.data);
}

export function noncePayload(data: Buffer): NoncePayload {
  return { type: PayloadType.Nonce, data };
}
