/**
 * The bytes that precede the body of an SK (RFC 7296 3.14) or SKF (RFC 7383 2.5) payload, with
 * the final message length already in place.
 *
 * For AEAD transforms these bytes are the associated data: RFC 5282 5.1 takes the message from
 * the first octet of the IKE header through the SK payload's generic header, i.e. everything
 * before the IV (for SKF, RFC 7383 2.5: through the Total Fragments field, again everything
 * before the IV). For classic transforms the ICV covers
 * these bytes followed by the IV and ciphertext (RFC 7296 3.14). Either way the crypto layer
 * seals over exactly `prefix`, then the datagram is `prefix || body`, and it equals
 * `encodeMessage` of the same message with the SK/SKF payload carrying that body.
 *
 * On receipt no rebuilding is needed: the SK/SKF payload is last, so the prefix is
 * `datagram.subarray(0, datagram.length - payload.body.length)`.
 */
import { PayloadType } from './iana.js';
import { IKE_HEADER_LENGTH, writeHeader, type IkeHeader } from './header.js';
import { payloadChainLength, writePayloadChain } from './payload-chain.js';
import { PAYLOAD_HEADER_LENGTH, writePayloadHeader, type PayloadHeaderFields } from './payload-header.js';
import type { Payload } from './payload.js';
import { SKF_FRAGMENT_FIELDS_LENGTH } from './payloads/encrypted-fragment.js';
import { ByteWriter } from './writer.js';

/**
 * IKE header + payloads before SK + SK generic header.
 * @param precedingPayloads unencrypted payloads before SK (usually none; e.g. a V payload)
 * @param skBodyLength octets of IV || ciphertext || ICV that will follow
 * @param firstInnerPayload type of the first payload inside the encrypted content
 */
export function encodeSkPrefix(
  header: IkeHeader,
  precedingPayloads: readonly Payload[],
  skBodyLength: number,
  firstInnerPayload: number,
  skHeader: PayloadHeaderFields = {},
): Buffer {
  const skLength = PAYLOAD_HEADER_LENGTH + skBodyLength;
  const w = startPrefix(header, precedingPayloads, PayloadType.SK, PAYLOAD_HEADER_LENGTH, skLength);
  writePayloadHeader(w, firstInnerPayload, skLength, skHeader);
  return w.finish();
}

export interface SkfPrefixFields extends PayloadHeaderFields {
  /** Next Payload: the first inner payload type in fragment 1, 0 in the others (RFC 7383 2.5). */
  firstInnerPayload: number;
  fragmentNumber: number;
  totalFragments: number;
  /** Octets of IV || ciphertext || ICV that will follow. */
  bodyLength: number;
}

/** IKE header + payloads before SKF + SKF generic header + Fragment Number + Total Fragments. */
export function encodeSkfPrefix(
  header: IkeHeader,
  precedingPayloads: readonly Payload[],
  fragment: SkfPrefixFields,
): Buffer {
  const skfLength = PAYLOAD_HEADER_LENGTH + SKF_FRAGMENT_FIELDS_LENGTH + fragment.bodyLength;
  const w = startPrefix(
    header,
    precedingPayloads,
    PayloadType.SKF,
    PAYLOAD_HEADER_LENGTH + SKF_FRAGMENT_FIELDS_LENGTH,
    skfLength,
  );
  writePayloadHeader(w, fragment.firstInnerPayload, skfLength, fragment);
  w.u16(fragment.fragmentNumber, 'Fragment Number');
  w.u16(fragment.totalFragments, 'Total Fragments');
  return w.finish();
}

/** Writes header and preceding payloads into a writer sized for the whole prefix. */
function startPrefix(
  header: IkeHeader,
  precedingPayloads: readonly Payload[],
  encryptedType: number,
  encryptedPrefixLength: number,
  encryptedPayloadLength: number,
): ByteWriter {
  const precedingLength = payloadChainLength(precedingPayloads);
  const totalLength = IKE_HEADER_LENGTH + precedingLength + encryptedPayloadLength;
  const w = new ByteWriter(IKE_HEADER_LENGTH + precedingLength + encryptedPrefixLength);
  writeHeader(w, header, precedingPayloads[0]?.type ?? encryptedType, totalLength);
  writePayloadChain(w, precedingPayloads, encryptedType);
  return w;
}
