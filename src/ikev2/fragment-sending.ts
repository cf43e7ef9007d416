/**
 * IKE message fragmentation, sending side (RFC 7383): splits a protected message that would not
 * fit the path into Encrypted Fragment (SKF) messages, each of which fits on its own. The
 * receiving side is fragment-reassembly.ts.
 *
 * What is split (RFC 7383 2.5): the plaintext of the inner payload chain, treated as one blob
 * without regard to payload boundaries. Each chunk is then padded, encrypted and authenticated
 * separately, exactly like an SK body (`sealSkBody`), with the fragment's own IKE header and SKF
 * header (Fragment Number, Total Fragments) as the authenticated prefix. So every fragment
 * carries its own IV and ICV and can be verified on arrival, before it is stored (RFC 7383 2.6).
 *
 * Layout of fragment k of n (RFC 7383 2.5):
 * - the IKE header of the original message, Length and Next Payload adjusted;
 * - unprotected payloads, if the message has any, in fragment 1 only (RFC 7383 2.5.3);
 * - SKF with Next Payload = the first inner payload's type in fragment 1 and 0 in the others,
 *   Fragment Number k (from 1) and Total Fragments n.
 *
 * Sizing (RFC 7383 2.5.1): the sender chooses the chunk size so that each IP datagram stays
 * within a threshold that counts the IP and UDP headers too (and the non-ESP marker on the NAT-T
 * port). Without better knowledge the threshold is 1280 octets for IPv6 (its minimum link MTU)
 * and 576 for IPv4 (the datagram size every IPv4 host must accept). See `FragmentationPolicy`.
 *
 * Only messages with an Encrypted payload can be fragmented (RFC 7383 2.5), and only once both
 * peers sent IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT (RFC 7383 2.3): that decision is the
 * caller's; when fragmentation was not negotiated, use `encodeProtectedMessage` directly.
 *
 * Retransmissions (RFC 7383 2.6.1): the fragments are built once and the caller keeps and
 * resends all of them as they are. Building them again would draw new IVs and give different
 * bytes for what must be the same message. The one reason to re-fragment is Path MTU discovery
 * (RFC 7383 2.5.2): after retransmissions went unanswered, the sender may fragment the same
 * message again with a smaller size; `minTotalFragments` then guarantees that the new Total
 * Fragments is larger than the old one, which is how the receiver knows to drop the old set and
 * start over (RFC 7383 2.6).
 */
import { sealSkBody, skBodyLength, type SkProtection } from '../crypto/sk-payload.js';
import type { RandomPort } from '../crypto/types.js';
import {
  IKE_HEADER_LENGTH,
  PAYLOAD_HEADER_LENGTH,
  PayloadType,
  SKF_FRAGMENT_FIELDS_LENGTH,
  encodePayloadChain,
  encodeSkfPrefix,
  type IkeHeader,
  type Payload,
} from '../wire/index.js';
import { encodeProtectedMessage } from './protected-message.js';

/** Where the datagrams go and how large they may be: the input to the per-fragment budget. */
export interface FragmentationPolicy {
  /**
   * Largest IP datagram to send, IP and UDP headers included (RFC 7383 2.5.1). Use
   * `DEFAULT_MAX_DATAGRAM_SIZE` unless the path MTU is known (configuration, or a smaller value
   * learnt by PMTU discovery, RFC 7383 2.5.2).
   */
  readonly maxDatagramSize: number;
  readonly ipVersion: 4 | 6;
  /** The message goes to UDP port 4500 behind the 4-octet non-ESP marker (RFC 3948 2.2). */
  readonly nattMarker: boolean;
}

/**
 * RFC 7383 2.5.1 defaults when nothing is known about the path: 1280 octets for IPv6 (the
 * minimum link MTU, RFC 8200 5) and 576 for IPv4 (the datagram every host must be able to
 * reassemble, RFC 791).
 */
export const DEFAULT_MAX_DATAGRAM_SIZE = { 4: 576, 6: 1280 } as const;

/** IPv4 header without options (we send none) and IPv6 header without extension headers. */
const IP_HEADER_LENGTH = { 4: 20, 6: 40 } as const;
const UDP_HEADER_LENGTH = 8;
/** RFC 3948 2.2: four zero octets in front of IKE on the NAT-T port. */
const NON_ESP_MARKER_LENGTH = 4;
/** Fragment Number and Total Fragments are 16-bit fields (RFC 7383 2.5). */
const MAX_TOTAL_FRAGMENTS = 0xffff;

/** The RFC 7383 2.5.1 default policy for a path of that IP version, with or without NAT-T. */
export function defaultFragmentationPolicy(ipVersion: 4 | 6, nattMarker: boolean): FragmentationPolicy {
  return { maxDatagramSize: DEFAULT_MAX_DATAGRAM_SIZE[ipVersion], ipVersion, nattMarker };
}

/**
 * Octets available for the IKE message itself in one datagram: the policy's datagram size less
 * the IP header, the UDP header and, on port 4500, the non-ESP marker (RFC 7383 2.5.1 counts
 * them all). Throws RangeError on a policy that leaves no room for an IKE header.
 */
export function ikeMessageBudget(policy: FragmentationPolicy): number {
  const ipHeader: number | undefined = IP_HEADER_LENGTH[policy.ipVersion];
  if (ipHeader === undefined) throw new RangeError(`IP version must be 4 or 6, got ${String(policy.ipVersion)}`);
  if (!Number.isInteger(policy.maxDatagramSize)) {
    throw new RangeError(`maxDatagramSize must be an integer, got ${policy.maxDatagramSize}`);
  }
  const budget = policy.maxDatagramSize - ipHeader - UDP_HEADER_LENGTH - (policy.nattMarker ? NON_ESP_MARKER_LENGTH : 0);
  if (budget <= IKE_HEADER_LENGTH) {
    throw new RangeError(`a ${policy.maxDatagramSize}-octet IPv${policy.ipVersion} datagram leaves no room for an IKE message`);
  }
  return budget;
}

export interface FragmentOptions {
  /**
   * Unencrypted payloads in front of the encrypted one, as for `encodeProtectedMessage`. When
   * the message is fragmented they go into fragment 1 only (RFC 7383 2.5.3).
   */
  readonly precedingPayloads?: readonly Payload[];
  /**
   * Split into at least this many fragments, even if fewer would fit. For re-fragmenting a
   * message during PMTU discovery (RFC 7383 2.5.2): pass the previous Total Fragments + 1, so
   * the receiver sees a larger Total Fragments and restarts its reassembly (RFC 7383 2.6).
   * Default 1: a message that fits is sent as one ordinary SK message.
   */
  readonly minTotalFragments?: number;
}

/**
 * Encodes `header` + SK{ inner } for sending, fragmented if it does not fit `policy`:
 * - if the whole SK message fits the budget (and `minTotalFragments` <= 1), the result is the one
 *   datagram `encodeProtectedMessage` would give;
 * - otherwise, SKF fragments 1..n in order, each within the budget, as few as the budget allows,
 *   the inner chain's plaintext spread evenly over them (so no fragment is a tiny leftover).
 *
 * `protection` is the sender's direction (SK_ei/SK_ai from the original initiator, SK_er/SK_ar
 * otherwise, RFC 7296 2.14). Each fragment draws its own IV from `random`, fragment 1 first, so a
 * replay that records the draws reproduces the bytes.
 *
 * Throws RangeError (a programming or configuration error, never hostile input) when the budget
 * cannot hold even one octet of plaintext per fragment, or the message would need more than
 * 65535 fragments.
 */
export function fragmentProtectedMessage(
  header: IkeHeader,
  inner: readonly Payload[],
  protection: SkProtection,
  random: RandomPort,
  policy: FragmentationPolicy,
  options: FragmentOptions = {},
): Buffer[] {
  const budget = ikeMessageBudget(policy);
  const preceding = options.precedingPayloads ?? [];
  const minTotal = options.minTotalFragments ?? 1;
  if (!Number.isInteger(minTotal) || minTotal < 1 || minTotal > MAX_TOTAL_FRAGMENTS) {
    throw new RangeError(`minTotalFragments must be an integer in 1..${MAX_TOTAL_FRAGMENTS}, got ${minTotal}`);
  }
  const precedingLength = encodePayloadChain(preceding).bytes.length;
  const chain = encodePayloadChain(inner);
  try {
    const plaintextLength = chain.bytes.length;
    const unfragmented = IKE_HEADER_LENGTH + precedingLength + PAYLOAD_HEADER_LENGTH + skBodyLength(protection, plaintextLength);
    if (unfragmented <= budget && minTotal === 1) {
      return [encodeProtectedMessage(header, inner, protection, random, { precedingPayloads: preceding })];
    }

    const skfOverhead = IKE_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH + SKF_FRAGMENT_FIELDS_LENGTH;
    const firstCapacity = plaintextCapacity(protection, budget - skfOverhead - precedingLength);
    const otherCapacity = plaintextCapacity(protection, budget - skfOverhead);
    if (firstCapacity < 1 || otherCapacity < 1) {
      throw new RangeError(
        `a ${budget}-octet IKE message budget leaves no room for fragment plaintext under ${protection.encryption.name}`,
      );
    }
    const sizes = chunkSizes(plaintextLength, firstCapacity, otherCapacity, minTotal);
    const total = sizes.length;

    const fragments: Buffer[] = [];
    let offset = 0;
    sizes.forEach((size, index) => {
      const chunk = chain.bytes.subarray(offset, offset + size);
      offset += size;
      const first = index === 0;
      const prefix = encodeSkfPrefix(header, first ? preceding : [], {
        // RFC 7383 2.5: the first inner payload's type in fragment 1, zero in all others.
        firstInnerPayload: first ? chain.firstPayloadType : PayloadType.NONE,
        fragmentNumber: index + 1,
        totalFragments: total,
        bodyLength: skBodyLength(protection, size),
      });
      const fragment = Buffer.concat([prefix, sealSkBody(protection, prefix, chunk, random)]);
      if (fragment.length > budget) {
        throw new Error(`internal: fragment ${index + 1} is ${fragment.length} octets, budget ${budget}`);
      }
      fragments.push(fragment);
    });
    return fragments;
  } finally {
    // The plaintext may hold AUTH data, identities and CP secrets; don't leave a copy around.
    chain.bytes.fill(0);
  }
}

/**
 * The most plaintext octets whose sealed body (IV, padded ciphertext, ICV) fits `room` octets,
 * or 0 if none does. Asks `skBodyLength` rather than redoing the padding arithmetic: the body is
 * at least the fixed overhead + plaintext + 1 (Pad Length), so starting from that bound and
 * stepping down finds the answer within one cipher block.
 */
function plaintextCapacity(protection: SkProtection, room: number): number {
  const overheadWithoutPadding = skBodyLength(protection, 0) - protection.encryption.blockSize;
  let n = room - overheadWithoutPadding - 1;
  while (n > 0 && skBodyLength(protection, n) > room) n--;
  return Math.max(n, 0);
}

/**
 * How many plaintext octets go into each fragment: as few fragments as the capacities allow
 * (but at least `minTotal`), filled evenly. Each fragment takes the even share of what is left,
 * capped by its capacity; fragment 1 may hold less (unprotected payloads share its datagram),
 * and the later ones, all of equal capacity, make up for it.
 */
function chunkSizes(length: number, firstCapacity: number, otherCapacity: number, minTotal: number): number[] {
  const needed = length <= firstCapacity ? 1 : 1 + Math.ceil((length - firstCapacity) / otherCapacity);
  const total = Math.max(needed, minTotal);
  if (total > MAX_TOTAL_FRAGMENTS) {
    throw new RangeError(`the message needs ${total} fragments, more than Total Fragments can say (${MAX_TOTAL_FRAGMENTS})`);
  }
  if (total > length) {
    // An empty fragment would carry nothing but padding; refuse rather than send one.
    throw new RangeError(`cannot split ${length} octets of inner payloads into ${total} non-empty fragments`);
  }
  const sizes: number[] = [];
  let left = length;
  for (let k = 0; k < total; k++) {
    const capacity = k === 0 ? firstCapacity : otherCapacity;
    const size = Math.min(capacity, Math.ceil(left / (total - k)));
    sizes.push(size);
    left -= size;
  }
  if (left !== 0) throw new Error(`internal: ${left} octets left after splitting into ${total} fragments`);
  return sizes;
}
