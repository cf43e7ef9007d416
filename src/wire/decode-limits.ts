/**
 * Limits on what one message may hold, checked while the codec walks it and before it decodes
 * what would exceed them: a datagram is decoded before anything knows who sent it, and a 63 KB
 * IKE_SA_INIT of 7 900 empty Notifies (or 15 700 empty Vendor IDs, or 255 Proposals of 30
 * Transforms) otherwise costs thousands of objects and milliseconds per datagram (RFC 7296 2.6:
 * a responder must not let unauthenticated initiators make it spend resources).
 *
 * The figures are far above what any peer sends and above what strongSwan accepts: charon drops
 * a datagram over 10 000 octets (`charon.max_packet`), more than 20 Notifies or 20 Vendor IDs,
 * or more than 8 CERT payloads in one IKEv2 message (libcharon/encoding/message.c); its
 * default IKE proposals are 2 Proposals of about 35 Transforms. Big IKE_AUTH messages (a
 * certificate chain) are fragmented by peers that can (RFC 7383); one that cannot still fits in
 * 32 KiB with a chain of several RSA-4096 certificates.
 */
import { PayloadType } from './iana.js';

/** Octets in one IKE message (header included), i.e. one datagram or one reassembled message. */
export const MAX_MESSAGE_OCTETS = 32 * 1024;

/** Payloads in one chain: a message's, or the one inside its SK payload. */
export const MAX_PAYLOADS = 128;

/** Payloads of one type in one chain, for the types a message legitimately carries a few of. */
export const MAX_PAYLOADS_OF_TYPE: ReadonlyMap<number, number> = new Map([
  [PayloadType.N, 48],
  [PayloadType.V, 48],
  [PayloadType.CERT, 16],
  [PayloadType.CERTREQ, 16],
]);

/** Proposals in one SA payload (RFC 7296 3.3.1: Proposal Num is one octet, so at most 255). */
export const MAX_PROPOSALS = 64;

/** Transforms in one SA payload, across its Proposals. */
export const MAX_TRANSFORMS = 512;

/** Transform Attributes in one SA payload, across its Transforms (KEY_LENGTH is the only one defined for IKEv2). */
export const MAX_TRANSFORM_ATTRIBUTES = 512;

/** Configuration Attributes in one CP payload (RFC 7296 3.15.1). */
export const MAX_CONFIGURATION_ATTRIBUTES = 64;
