/**
 * RFC 7296 3.14: Encrypted and Authenticated payload (SK).
 *
 *   | Next Payload  |C|  RESERVED   |         Payload Length        |
 *   |                     Initialization Vector                     |
 *   ~                    Encrypted IKE Payloads                     ~
 *   |               |             Padding (0-255 octets)            |
 *   |                                               |  Pad Length   |
 *   ~                    Integrity Checksum Data                    ~
 *
 * At this layer everything after the generic header is one opaque `body`: the IV, ICV and
 * padding lengths depend on the negotiated transforms, which only the crypto layer knows.
 * The generic header's Next Payload is the type of the first payload inside the encrypted data,
 * not of a following one (the SK payload is always last), so the model names it
 * `firstInnerPayload`.
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface SkPayload extends PayloadHeaderFields {
  type: typeof PayloadType.SK;
  /** Next Payload of the SK header: the type of the first payload inside the plaintext (0 if none). */
  firstInnerPayload: number;
  /** IV || ciphertext (payloads, padding, Pad Length) || ICV. */
  body: Buffer;
}

export function decodeSkBody(r: ByteReader, firstInnerPayload: number): SkPayload {
  return { type: PayloadType.SK, firstInnerPayload, body: r.rest() };
}

export function skBodyLength(p: SkPayload): number {
  return p.body.length;
}

export function writeSkBody(w: ByteWriter, p: SkPayload): void {
  w.bytes(p.body);
}

export function skPayload(firstInnerPayload: number, body: Buffer): SkPayload {
  return { type: PayloadType.SK, firstInnerPayload, body };
}
