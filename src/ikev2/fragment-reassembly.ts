/**
 * IKE message fragmentation, receiving side (RFC 7383 2.6): verifies each Encrypted Fragment
 * (SKF) message on arrival and puts the original inner payload chain back together.
 *
 * - `openFragmentMessage` checks and opens ONE fragment: it is an SKF message, its numbers are sane,
 *   and its ICV verifies over the fragment's own prefix (IKE header through Total Fragments,
 *   RFC 7383 2.5). Pure; it also lets a responder authenticate fragment 1 of a retransmitted
 *   request before answering it again (RFC 7383 2.6.1).
 * - `FragmentReassembler` holds the verified fragments of one message: one instance per
 *   (IKE SA, direction, Message ID). It applies the Total Fragments rules of RFC 7383 2.6 and
 *   resource limits, and returns the inner payloads once fragments 1..n are all there.
 *
 * Why verify before storing (RFC 7383 2.6, Security Considerations): a fragment that was not
 * authenticated must not change anything. Otherwise an attacker who can only inject packets
 * could fill the set with garbage, or announce a larger Total Fragments and make the receiver
 * throw away the genuine fragments it already has. Here a fragment that fails its ICV check is
 * rejected and the stored set stays exactly as it was.
 *
 * What the reassembler does not do: decide which Message IDs are acceptable, detect
 * retransmissions of requests already answered (RFC 7383 2.6.1 uses the Message ID together with
 * Fragment Number and Total Fragments for that), or time out an incomplete set. Those belong to
 * the IKE SA machine, which calls `reset()` (or drops the instance) when it gives up.
 */
import { openSkBody, type SkOpenError, type SkProtection } from '../crypto/sk-payload.js';
import { err, ok, type Result } from '../result.js';
import {
  MAX_MESSAGE_OCTETS,
  PayloadType,
  decodePayloadChain,
  isUnknownPayload,
  type IkeHeader,
  type IkeMessage,
  type ParseError,
  type Payload,
  type SkfPayload,
} from '../wire/index.js';

/** One fragment, verified and decrypted. */
export interface OpenedFragment {
  /** The fragment message as decoded; its last payload is the SKF payload. */
  readonly message: IkeMessage;
  readonly skf: SkfPayload;
  readonly fragmentNumber: number;
  readonly totalFragments: number;
  /** This fragment's chunk of the inner payload chain (a fresh buffer, not a view of the datagram). */
  readonly plaintext: Buffer;
}

/** Why a single fragment was refused. Never thrown: fragments come from the network. */
export type FragmentError =
  /** The message's last payload is not SKF (an SK message goes to `decodeProtectedMessage`). */
  | { readonly kind: 'not-a-fragment' }
  /**
   * RFC 7383 2.5: Fragment Number and Total Fragments are never zero and Fragment Number never
   * exceeds Total Fragments. (The codec already refuses these; checked again because this is
   * the module that relies on it.)
   */
  | { readonly kind: 'bad-fragment-number'; readonly fragmentNumber: number; readonly totalFragments: number }
  /**
   * RFC 7383 2.5.3: unprotected payloads may only travel in fragment 1. A later fragment that
   * carries some is refused rather than silently losing them.
   */
  | { readonly kind: 'unprotected-payloads-after-first'; readonly fragmentNumber: number }
  /** The fragment's ICV (or AEAD tag) does not verify, or its padding is bad. */
  | { readonly kind: 'sk-open'; readonly error: SkOpenError };

/**
 * Verifies and decrypts one fragment. `message` must be `decodeMessage(raw)`: the prefix the ICV
 * covers is taken from `raw` (everything in front of the SKF body), exactly as received.
 * `protection` is the receiver's view of the sender's keys (RFC 7296 2.14).
 *
 * Throws (a programming error) if `message` was not decoded from `raw`.
 */
export function openFragmentMessage(message: IkeMessage, raw: Uint8Array, protection: SkProtection): Result<OpenedFragment, FragmentError> {
  const last = message.payloads[message.payloads.length - 1];
  if (last === undefined || isUnknownPayload(last) || last.type !== PayloadType.SKF) return err({ kind: 'not-a-fragment' });
  const skf: SkfPayload = last;
  const { fragmentNumber, totalFragments } = skf;
  if (fragmentNumber < 1 || totalFragments < 1 || fragmentNumber > totalFragments) {
    return err({ kind: 'bad-fragment-number', fragmentNumber, totalFragments });
  }
  if (fragmentNumber !== 1 && message.payloads.length > 1) {
    return err({ kind: 'unprotected-payloads-after-first', fragmentNumber });
  }
  const prefix = prefixOf(raw, skf.body);
  const opened = openSkBody(protection, prefix, skf.body);
  if (!opened.ok) return err({ kind: 'sk-open', error: opened.error });
  return ok({ message, skf, fragmentNumber, totalFragments, plaintext: opened.value });
}

/** Everything in front of the SKF body: the SKF payload is last, so its body ends the datagram. */
function prefixOf(raw: Uint8Array, body: Buffer): Uint8Array {
  const prefixLength = raw.length - body.length;
  if (prefixLength < 0 || !Buffer.from(raw.buffer, raw.byteOffset + prefixLength, body.length).equals(body)) {
    throw new RangeError('the decoded message does not come from these bytes: its SKF body is not their tail');
  }
  return raw.subarray(0, prefixLength);
}

/** Bounds on what one message's reassembly may hold (RFC 7383 2.6: receivers limit resources). */
export interface ReassemblyLimits {
  /** Largest Total Fragments accepted; a fragment announcing more is refused. At most 65535. */
  readonly maxFragments: number;
  /** Most plaintext octets held for one message; reaching past it abandons the set. */
  readonly maxBytes: number;
}

/**
 * 64 fragments are enough for a 30 KB message at the IPv4 default of 576 octets per datagram;
 * the plaintext of one message is bounded as an unfragmented message is (MAX_MESSAGE_OCTETS,
 * src/wire/decode-limits.ts), so fragmenting is no way around the codec's limit.
 */
export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = { maxFragments: 64, maxBytes: MAX_MESSAGE_OCTETS };

/** Why `accept` refused a fragment. The set in progress is unchanged unless stated. */
export type FragmentRejection =
  | FragmentError
  /** The message this reassembler was for is already complete; `reset()` to reuse it. */
  | { readonly kind: 'already-complete' }
  /** Not the same message as the fragments held: SPIs, exchange type, flags or Message ID differ. */
  | { readonly kind: 'other-message' }
  /**
   * RFC 7383 2.6: a fragment with a smaller Total Fragments than the set in progress is from an
   * older, superseded fragmentation of the message (PMTU discovery, 2.5.2) and is discarded.
   */
  | { readonly kind: 'stale-total'; readonly totalFragments: number; readonly current: number }
  | { readonly kind: 'too-many-fragments'; readonly totalFragments: number; readonly limit: number }
  /** The held plaintext would pass `maxBytes`. The whole set is abandoned (it cannot complete). */
  | { readonly kind: 'too-many-bytes'; readonly bytes: number; readonly limit: number }
  /**
   * Every fragment verified, but the reassembled plaintext is not a payload chain. The set is
   * abandoned: the authenticated peer sent garbage, and waiting longer cannot fix it.
   */
  | { readonly kind: 'inner-parse'; readonly error: ParseError };

export type ReassemblyResult =
  /** Stored (or a duplicate of one already stored); `received` of `total` fragments are held. */
  | { readonly kind: 'incomplete'; readonly received: number; readonly total: number }
  /**
   * All fragments arrived. `message` is fragment 1 as decoded (its header, and unprotected
   * payloads if any, RFC 7383 2.5.3); `inner` are the reassembled inner payloads, as
   * `decodeProtectedMessage` would have returned them for the unfragmented message.
   */
  | { readonly kind: 'complete'; readonly message: IkeMessage; readonly inner: Payload[] }
  | { readonly kind: 'rejected'; readonly reason: FragmentRejection };

/**
 * Reassembles the fragments of one IKE message (RFC 7383 2.6). Keep one per (IKE SA, direction,
 * Message ID), feed it every SKF message for that Message ID, and act on the result.
 *
 * Rules, in the order they apply to an arriving fragment:
 * 1. after completion, everything is refused until `reset()`;
 * 2. Total Fragments above the limit: refused;
 * 3. with a set in progress: a different message (header) is refused; a smaller Total Fragments is
 *    discarded (RFC 7383 2.6); a number already held with the same total is a duplicate, ignored;
 * 4. the fragment's ICV is verified (`openFragmentMessage`); failure changes nothing;
 * 5. a larger Total Fragments than the set in progress: the set is discarded and reassembly starts
 *    over with this fragment (RFC 7383 2.6 — the sender re-fragmented, e.g. for PMTU discovery);
 * 6. the plaintext is stored, within `maxBytes`; when fragments 1..n are all held, their
 *    plaintexts are concatenated in order and decoded as the inner chain, whose first type is
 *    fragment 1's Next Payload. (Later fragments' Next Payload MUST be sent as 0, RFC 7383 2.5;
 *    on receipt it carries no meaning and is not checked.)
 *
 * Held plaintext is zeroed when the set is discarded, completed or reset.
 */
export class FragmentReassembler {
  private readonly limits: ReassemblyLimits;
  /** Plaintext chunks of the set in progress, by Fragment Number. */
  private readonly parts = new Map<number, Buffer>();
  private total = 0;
  private bytes = 0;
  /** Header of the first fragment accepted into the set in progress: the message's identity. */
  private identity: IkeHeader | undefined;
  /** Fragment 1, once held: its Next Payload starts the inner chain. */
  private first: OpenedFragment | undefined;
  private complete = false;

  constructor(limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {
    if (!Number.isInteger(limits.maxFragments) || limits.maxFragments < 1 || limits.maxFragments > 0xffff) {
      throw new RangeError(`maxFragments must be an integer in 1..65535, got ${limits.maxFragments}`);
    }
    if (!Number.isInteger(limits.maxBytes) || limits.maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${limits.maxBytes}`);
    }
    this.limits = { maxFragments: limits.maxFragments, maxBytes: limits.maxBytes };
  }

  /**
   * Offers one received SKF message (`message` = `decodeMessage(raw)`), opened with the
   * receiver's view of the sender's keys. See the class comment for the rules.
   */
  accept(message: IkeMessage, raw: Uint8Array, protection: SkProtection): ReassemblyResult {
    if (this.complete) return rejected({ kind: 'already-complete' });
    const last = message.payloads[message.payloads.length - 1];
    if (last === undefined || isUnknownPayload(last) || last.type !== PayloadType.SKF) {
      return rejected({ kind: 'not-a-fragment' });
    }
    const { fragmentNumber, totalFragments } = last;
    if (totalFragments > this.limits.maxFragments) {
      return rejected({ kind: 'too-many-fragments', totalFragments, limit: this.limits.maxFragments });
    }
    // Cheap refusals first: none of them changes the set, so they need no authentication.
    if (this.identity !== undefined) {
      if (!sameMessage(this.identity, message.header)) return rejected({ kind: 'other-message' });
      if (totalFragments < this.total) return rejected({ kind: 'stale-total', totalFragments, current: this.total });
      if (totalFragments === this.total && this.parts.has(fragmentNumber)) return this.progress();
    }

    const opened = openFragmentMessage(message, raw, protection);
    if (!opened.ok) return rejected(opened.error);
    const fragment = opened.value;

    // Authenticated from here on. A larger total means the sender fragmented the message anew:
    // start over with this fragment (RFC 7383 2.6).
    if (this.identity === undefined || totalFragments > this.total) {
      this.discardSet();
      // Copied: the decoded header's SPIs are views of a datagram the caller may reuse.
      this.identity = { ...message.header, spiI: Buffer.from(message.header.spiI), spiR: Buffer.from(message.header.spiR) };
      this.total = totalFragments;
    }
    if (this.bytes + fragment.plaintext.length > this.limits.maxBytes) {
      const bytes = this.bytes + fragment.plaintext.length;
      fragment.plaintext.fill(0);
      this.discardSet();
      return rejected({ kind: 'too-many-bytes', bytes, limit: this.limits.maxBytes });
    }
    this.parts.set(fragmentNumber, fragment.plaintext);
    this.bytes += fragment.plaintext.length;
    if (fragmentNumber === 1) this.first = fragment;

    return this.parts.size === this.total ? this.reassemble() : this.progress();
  }

  /** Drops the set in progress (zeroing held plaintext) and forgets completion: ready for reuse. */
  reset(): void {
    this.discardSet();
    this.complete = false;
  }

  private reassemble(): ReassemblyResult {
    const first = this.first;
    if (first === undefined) throw new Error('internal: all fragments held but not fragment 1');
    const chunks: Buffer[] = [];
    for (let n = 1; n <= this.total; n++) {
      const chunk = this.parts.get(n);
      if (chunk === undefined) throw new Error(`internal: fragment ${n} of ${this.total} missing at reassembly`);
      chunks.push(chunk);
    }
    // `inner` will alias this fresh buffer (as decodeProtectedMessage's result aliases its
    // plaintext); the per-fragment chunks are zeroed by discardSet.
    const plaintext = Buffer.concat(chunks);
    const inner = decodePayloadChain(plaintext, first.skf.firstInnerPayload, 0);
    const message = first.message;
    this.discardSet();
    if (!inner.ok) {
      plaintext.fill(0);
      return rejected({ kind: 'inner-parse', error: inner.error });
    }
    this.complete = true;
    return { kind: 'complete', message, inner: inner.value };
  }

  private progress(): ReassemblyResult {
    return { kind: 'incomplete', received: this.parts.size, total: this.total };
  }

  private discardSet(): void {
    for (const chunk of this.parts.values()) chunk.fill(0);
    this.parts.clear();
    this.total = 0;
    this.bytes = 0;
    this.identity = undefined;
    this.first = undefined;
  }
}

function rejected(reason: FragmentRejection): ReassemblyResult {
  return { kind: 'rejected', reason };
}

/**
 * Whether two fragment headers belong to the same message. RFC 7383 2.5 takes every fragment's
 * header intact from the original message except Length and Next Payload, so everything else
 * must agree.
 */
function sameMessage(a: IkeHeader, b: IkeHeader): boolean {
  return (
    a.spiI.equals(b.spiI) &&
    a.spiR.equals(b.spiR) &&
    a.majorVersion === b.majorVersion &&
    a.minorVersion === b.minorVersion &&
    a.exchangeType === b.exchangeType &&
    a.messageId === b.messageId &&
    a.flags.initiator === b.flags.initiator &&
    a.flags.response === b.flags.response &&
    a.flags.version === b.flags.version &&
    (a.flags.reserved ?? 0) === (b.flags.reserved ?? 0)
  );
}
