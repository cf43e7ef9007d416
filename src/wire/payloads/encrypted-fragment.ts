/**
 * RFC 7383 2.5: Encrypted Fragment payload (SKF).
 *
 *   | Next Payload  |C|  RESERVED   |         Payload Length        |
 *   |        Fragment Number        |        Total Fragments        |
 *   |                     Initialization Vector                     |
 *   ~                      Encrypted content                        ~
 *   |               |             Padding (0-255 octets)            |
 *   |                                               |  Pad Length   |
 *   ~                    Integrity Checksum Data                    ~
 *
 * Like SK, the encrypted part is an opaque `body`. Next Payload is the first inner payload's
 * type in fragment 1 and MUST be 0 in the others (RFC 7383 2.5); the codec keeps the value as
 * sent and leaves that rule, like reassembly, to the protocol layer. It does enforce
 * 1 <= Fragment Number <= Total Fragments, which RFC 7383 2.5 requires of every fragment
 * (fragments are numbered from 1, and no number exceeds the total).
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

/** Fragment Number and Total Fragments, between the generic header and the IV. */
export const SKF_FRAGMENT_FIELDS_LENGTH = 4;

export interface SkfPayload extends PayloadHeaderFields {
  type: typeof PayloadType.SKF;
  /** Next Payload of the SKF header: first inner payload type in fragment 1, 0 in the others. */
  firstInnerPayload: number;
  fragmentNumber: number;
  totalFragments: number;
  /** IV || ciphertext || ICV of this fragment. */
  body: Buffer;
}

export function decodeSkfBody(r: ByteReader, firstInnerPayload: number): SkfPayload {
  const numberOffset = r.offset;
  const fragmentNumber = r.u16();
  const totalFragments = r.u16();
  if (fragmentNumber === 0 || fragmentNumber > totalFragments) {
    r.fail('bad-fragment-number', `Fragment Number ${fragmentNumber} of Total Fragments ${totalFragments}`, numberOffset);
  }
  return { type: PayloadType.SKF, firstInnerPayload, fragmentNumber, totalFragments, body: r.rest() };
}

export function skfBodyLength(p: SkfPayload): number {
  return SKF_FRAGMENT_FIELDS_LENGTH + p.body.length;
}

export function writeSkfBody(w: ByteWriter, p: SkfPayload): void {
  w.u16(p.fragmentNumber, 'Fragment Number');
  w.u16(p.totalFragments, 'Total Fragments');
  w.bytes(p.body);
}

export function skfPayload(
  fields: Pick<SkfPayload, 'firstInnerPayload' | 'fragmentNumber' | 'totalFragments' | 'body'>,
): SkfPayload {
  return { type: PayloadType.SKF, ...fields };
}
