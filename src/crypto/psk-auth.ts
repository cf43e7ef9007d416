/**
 * Shared-key authentication (AUTH method 2, "Shared Key Message Integrity Code"), RFC 7296 2.15.
 *
 *     InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
 *     MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 *     ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
 *     MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
 *
 *     AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets> )
 *     AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <ResponderSignedOctets> )
 *
 * Both sides compute both: their own octets to send, the peer's octets to verify.
 */
import { timingSafeEqual } from 'node:crypto';
import type { PrfTransform } from './types.js';

/** RFC 7296 2.15: 'the string "Key Pad for IKEv2" is 17 ASCII characters without null termination'. */
export const KEY_PAD_FOR_IKEV2: Buffer = Buffer.from('Key Pad for IKEv2', 'ascii');

export interface SignedOctetsInput {
  /**
   * RealMessage1 (for the initiator's octets) or RealMessage2 (for the responder's): the
   * IKE_SA_INIT message exactly as it was sent, first octet of the IKE header through the end of
   * the last payload; without the four zero octets of the non-ESP marker on port 4500.
   */
  readonly realMessage: Uint8Array;
  /**
   * The other side's nonce data, without the payload header: NonceRData in the initiator's
   * octets, NonceIData in the responder's.
   */
  readonly peerNonce: Uint8Array;
  /** The IKE SA's PRF. */
  readonly prf: PrfTransform;
  /** SK_pi for the initiator's octets, SK_pr for the responder's. */
  readonly SK_p: Uint8Array;
  /**
   * RestOfInitIDPayload / RestOfRespIDPayload: the IDi / IDr payload body from the ID Type
   * octet on — ID Type, the three RESERVED octets, then the Identification Data — that is the
   * payload without its 4-octet generic payload header.
   */
  readonly idPayloadBody: Uint8Array;
}

/** RFC 7296 2.15: RealMessage | peer's NonceData | prf(SK_p, RestOfIDPayload). */
export function signedOctets(input: SignedOctetsInput): Buffer {
  const macedId = input.prf.compute(input.SK_p, input.idPayloadBody);
  return Buffer.concat([input.realMessage, input.peerNonce, macedId]);
}

/**
 * RFC 7296 2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> ).
 * The Authentication Data of an AUTH payload with Auth Method 2. Any shared-secret length
 * works: HMAC PRFs take any key, and AES-XCBC/CMAC PRFs adjust keys themselves (RFC 4434 2,
 * RFC 4615 3).
 */
export function pskAuth(prf: PrfTransform, sharedSecret: Uint8Array, octets: Uint8Array): Buffer {
  const padded = prf.compute(sharedSecret, KEY_PAD_FOR_IKEV2);
  try {
    return prf.compute(padded, octets);
  } finally {
    padded.fill(0); // derived from the PSK: as secret as the PSK itself
  }
}

/**
 * Checks a received AUTH payload's Authentication Data against the expected value, in constant
 * time for equal lengths. A length mismatch is simply `false` (the length is not secret).
 */
export function verifyPskAuth(
  prf: PrfTransform,
  sharedSecret: Uint8Array,
  octets: Uint8Array,
  authenticationData: Uint8Array,
): boolean {
  const expected = pskAuth(prf, sharedSecret, octets);
  return expected.length === authenticationData.length && timingSafeEqual(expected, authenticationData);
}
