/**
 * RFC 7383 on the IKE SA: fragments out (when both sides announced support and a message does
 * not fit the configured datagram size) and reassembly in. Splitting, sealing and per-fragment
 * opening are src/ikev2/fragment-sending.ts and fragment-reassembly.ts; here the fragments held
 * so far live in the machine context as plain data (`Reassembly`).
 */
import type { CryptoRegistry } from '../../src/crypto/registry.js';
import type { RandomPort } from '../../src/crypto/types.js';
import { fragmentProtectedMessage } from '../../src/ikev2/fragment-sending.js';
import { DEFAULT_REASSEMBLY_LIMITS, openFragmentMessage } from '../../src/ikev2/fragment-reassembly.js';
import { peerRole, protectionOf, type IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import { parseIp, decodePayloadChain, type IkeHeader, type IkeMessage, type Payload } from '../../src/wire/index.js';
import type { Reassembly } from './ike-sa-context.js';

export function fragmentForSending(
  sa: IkeSaSecurity,
  header: IkeHeader,
  inner: readonly Payload[],
  maxDatagramSize: number,
  remoteAddress: string,
  nattMarker: boolean,
  registry: CryptoRegistry,
  random: RandomPort,
): Buffer[] {
  const ipVersion = parseIp(remoteAddress)?.length === 16 ? 6 : 4;
  return fragmentProtectedMessage(header, inner, protectionOf(sa, sa.role, registry), random, { maxDatagramSize, ipVersion, nattMarker });
}

export type FragmentOutcome =
  | { readonly kind: 'incomplete'; readonly reassembly: Reassembly }
  | { readonly kind: 'complete'; readonly inner: Payload[] }
  /** `abandon`: the set held so far goes too (RFC 7383 2.6: receivers limit what they hold). */
  | { readonly kind: 'dropped'; readonly reason: string; readonly abandon?: boolean };

/** Adds one fragment of a message (verified first, 2.6); returns the inner payloads once all are in. */
export function addFragment(
  current: Reassembly | undefined,
  sa: IkeSaSecurity,
  message: IkeMessage,
  bytes: Uint8Array,
  registry: CryptoRegistry,
): FragmentOutcome {
  const opened = openFragmentMessage(message, bytes, protectionOf(sa, peerRole(sa.role), registry));
  if (!opened.ok) return { kind: 'dropped', reason: opened.error.kind };
  const { fragmentNumber, totalFragments, skf, plaintext } = opened.value;
  const h = message.header;
  if (totalFragments > DEFAULT_REASSEMBLY_LIMITS.maxFragments) return { kind: 'dropped', reason: `${totalFragments} fragments announced` };
  // A fragment of another message, or of the same one with a larger Total Fragments (PMTU
  // discovery, 2.5.2), starts a new set; a smaller Total Fragments is stale (2.6).
  const same = current !== undefined && current.messageId === h.messageId && current.response === h.flags.response;
  if (same && totalFragments < current.total) return { kind: 'dropped', reason: 'fragment of an older, larger fragmentation' };
  let r: Reassembly =
    same && current.total === totalFragments
      ? current
      : { messageId: h.messageId, response: h.flags.response, total: totalFragments, firstInnerPayload: 0, parts: {} };
  if (fragmentNumber === 1) r = { ...r, firstInnerPayload: skf.firstInnerPayload };
  r = { ...r, parts: { ...r.parts, [fragmentNumber]: plaintext } };
  // Counted as fragments arrive, not once all are in: 64 fragments of a full datagram each would
  // otherwise be held (2 MiB) before the size of the whole was known.
  let held = 0;
  for (const part of Object.values(r.parts)) held += part.length;
  if (held > DEFAULT_REASSEMBLY_LIMITS.maxBytes) {
    return { kind: 'dropped', reason: `the fragments of Message ID ${h.messageId} hold ${held} octets, more than a message may have`, abandon: true };
  }
  const parts: Buffer[] = [];
  for (let n = 1; n <= r.total; n++) {
    const p = r.parts[n];
    if (p === undefined) return { kind: 'incomplete', reassembly: r };
    parts.push(p);
  }
  const joined = Buffer.concat(parts);
  const chain = decodePayloadChain(joined, r.firstInnerPayload, 0);
  if (!chain.ok) return { kind: 'dropped', reason: chain.error.message };
  return { kind: 'complete', inner: chain.value };
}
