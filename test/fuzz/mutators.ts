/**
 * Mutations of IKEv2 bytes for the fuzzer: of whole messages (header + payload chain) and of
 * bare payload chains (the plaintext inside SK). Generic byte-level changes (bit flips, byte
 * writes, truncation, extension) plus structure-aware ones that keep most of the framing intact
 * so the input reaches the decoders behind it: Payload Length and Next Payload edits, 16-bit
 * writes of boundary values inside a payload, and splicing whole payloads from other seeds
 * (insert, replace, delete, duplicate, swap) with the chain re-linked.
 */
import type { Prng } from './prng.js';

const IKE_HEADER_LENGTH = 28;
/** RFC 7296 3.2 payload types (and 53, SKF, RFC 7383), most of which the decoders know. */
const PAYLOAD_TYPES = [0, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 53, 1, 2, 49, 50, 54, 255];
const INTERESTING_U8 = [0x00, 0x01, 0x02, 0x04, 0x08, 0x0e, 0x10, 0x1f, 0x20, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_U16 = [0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 28, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xfffe, 0xffff];

export interface Segment {
  readonly type: number;
  /** The payload with its generic header (Next Payload still as it was). */
  readonly bytes: Buffer;
}

/** The payloads of a chain as far as its framing holds; SK/SKF end it (RFC 7296 3.14). */
export function segmentsOf(chain: Buffer, firstType: number): Segment[] {
  const out: Segment[] = [];
  let type = firstType;
  let offset = 0;
  while (type !== 0 && offset + 4 <= chain.length) {
    const length = chain.readUInt16BE(offset + 2);
    if (length < 4 || offset + length > chain.length) break;
    out.push({ type, bytes: chain.subarray(offset, offset + length) });
    if (type === 46 || type === 53) break;
    type = chain[offset]!;
    offset += length;
  }
  return out;
}

/** The segments joined again with each Next Payload pointing at the following one. */
export function linkSegments(segments: readonly Segment[]): { firstType: number; bytes: Buffer } {
  const parts = segments.map((s, i) => {
    const copy = Buffer.from(s.bytes);
    copy[0] = segments[i + 1]?.type ?? 0;
    return copy;
  });
  return { firstType: segments[0]?.type ?? 0, bytes: Buffer.concat(parts) };
}

/** A chain and its first payload type: a message body or an SK plaintext. */
export interface Chain {
  firstType: number;
  bytes: Buffer;
}

/** Offsets (within the chain) of each payload's generic header. */
function headerOffsets(chain: Chain): number[] {
  const out: number[] = [];
  let offset = 0;
  for (const s of segmentsOf(chain.bytes, chain.firstType)) {
    out.push(offset);
    offset += s.bytes.length;
  }
  return out;
}

/** One mutation of a payload chain; `donors` are other seeds' payloads to splice in. */
export function mutateChain(rng: Prng, chain: Chain, donors: readonly Segment[]): Chain {
  const bytes = Buffer.from(chain.bytes);
  let firstType = chain.firstType;
  const headers = headerOffsets({ firstType, bytes });
  switch (rng.int(10)) {
    case 0: {
      // Bit flips.
      if (bytes.length === 0) break;
      for (let n = 1 + rng.int(4); n > 0; n--) {
        const bit = rng.int(bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
      }
      break;
    }
    case 1: {
      // Byte writes, random or boundary values.
      if (bytes.length === 0) break;
      for (let n = 1 + rng.int(3); n > 0; n--) bytes[rng.int(bytes.length)] = rng.chance(0.5) ? rng.int(256) : rng.pick(INTERESTING_U8);
      break;
    }
    case 2: {
      // A 16-bit boundary value anywhere (counts, lengths and types inside payload bodies).
      if (bytes.length < 2) break;
      bytes.writeUInt16BE(rng.pick(INTERESTING_U16), rng.int(bytes.length - 1));
      break;
    }
    case 3: {
      // Payload Length edits.
      if (headers.length === 0) break;
      const at = rng.pick(headers) + 2;
      const current = bytes.readUInt16BE(at);
      const candidates = [0, 1, 3, 4, 5, current - 1, current + 1, current - 4, current + 4, current * 2, 0xffff, rng.int(0x10000)];
      bytes.writeUInt16BE(Math.max(0, Math.min(0xffff, rng.pick(candidates))), at);
      break;
    }
    case 4: {
      // Next Payload (or the first type) edits.
      if (headers.length === 0 || rng.chance(0.25)) firstType = rng.pick(PAYLOAD_TYPES);
      else bytes[rng.pick(headers)] = rng.chance(0.8) ? rng.pick(PAYLOAD_TYPES) : rng.int(256);
      break;
    }
    case 5: {
      // Critical bit and reserved bits of a payload header.
      if (headers.length === 0) break;
      bytes[rng.pick(headers) + 1] = rng.pick([0x80, 0x01, 0x7f, 0xff]);
      break;
    }
    case 6: {
      // Truncation.
      return { firstType, bytes: bytes.subarray(0, rng.int(bytes.length + 1)) };
    }
    case 7: {
      // Extension: random bytes, or a repeat of the tail.
      const extra = rng.chance(0.5) ? rng.bytes(1 + rng.int(64)) : bytes.subarray(rng.int(bytes.length + 1));
      return { firstType, bytes: Buffer.concat([bytes, extra]) };
    }
    default: {
      // Splicing whole payloads, the chain re-linked.
      const segments = segmentsOf(bytes, firstType).slice();
      const donor = donors.length > 0 ? rng.pick(donors) : undefined;
      const at = rng.int(segments.length + 1);
      const op = rng.int(5);
      if (op === 0 && donor !== undefined) segments.splice(at, 0, donor);
      else if (op === 1 && donor !== undefined && segments.length > 0) segments[Math.min(at, segments.length - 1)] = donor;
      else if (op === 2 && segments.length > 0) segments.splice(Math.min(at, segments.length - 1), 1);
      else if (op === 3 && segments.length > 0) {
        const s = segments[Math.min(at, segments.length - 1)]!;
        for (let n = 1 + rng.int(rng.chance(0.1) ? 200 : 4); n > 0; n--) segments.splice(at, 0, s);
      } else if (segments.length > 1) {
        const i = rng.int(segments.length);
        const j = rng.int(segments.length);
        [segments[i], segments[j]] = [segments[j]!, segments[i]!];
      }
      return linkSegments(segments);
    }
  }
  return { firstType, bytes };
}

/** The payload chain of an encoded message and its first type. */
export function chainOfMessage(message: Buffer): Chain {
  return { firstType: message[16] ?? 0, bytes: message.subarray(IKE_HEADER_LENGTH) };
}

/**
 * One or more mutations of a whole message: of its header (SPIs, exchange type, flags, Message
 * ID, Length) or of its payload chain. The header Length is then usually made right again, so
 * the decoder gets past the header check.
 */
export function mutateMessage(rng: Prng, message: Buffer, donors: readonly Segment[]): Buffer {
  let out: Buffer = Buffer.from(message);
  for (let n = rng.chance(0.7) ? 1 : 2 + rng.int(3); n > 0; n--) {
    if (out.length < IKE_HEADER_LENGTH || rng.chance(0.7)) {
      const head = out.subarray(0, Math.min(IKE_HEADER_LENGTH, out.length));
      const chain = mutateChain(rng, out.length < IKE_HEADER_LENGTH ? { firstType: 0, bytes: Buffer.from(out) } : chainOfMessage(out), donors);
      if (out.length < IKE_HEADER_LENGTH) {
        out = chain.bytes;
        continue;
      }
      out = Buffer.concat([head, chain.bytes]);
      out[16] = chain.firstType;
    } else {
      mutateHeader(rng, out);
    }
  }
  if (out.length >= IKE_HEADER_LENGTH && rng.chance(0.85)) out.writeUInt32BE(out.length, 24);
  return out;
}

function mutateHeader(rng: Prng, m: Buffer): void {
  switch (rng.int(7)) {
    case 0:
      m.set(rng.chance(0.5) ? Buffer.alloc(8) : rng.bytes(8), rng.chance(0.5) ? 0 : 8); // an SPI zeroed or random
      break;
    case 1:
      m[17] = rng.pick([0x20, 0x21, 0x2f, 0x10, 0x30, 0x00]); // version
      break;
    case 2:
      m[18] = rng.chance(0.8) ? rng.pick([34, 35, 36, 37, 43, 0, 255]) : rng.int(256); // exchange type
      break;
    case 3:
      m[19] = rng.pick([0x00, 0x08, 0x20, 0x28, 0x10, 0x38, 0xff]); // flags: I, R, V
      break;
    case 4:
      m.writeUInt32BE(rng.pick([0, 1, 2, 3, 0x7fffffff, 0xffffffff, rng.int(0x100000000)]), 20); // Message ID
      break;
    case 5:
      m.writeUInt32BE(rng.pick([0, 27, 28, m.length - 1, m.length + 1, 0xffffffff]), 24); // Length
      break;
    default:
      m[16] = rng.pick(PAYLOAD_TYPES);
  }
}
