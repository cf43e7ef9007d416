/**
 * Text ⇄ octets for the IPv4 and IPv6 addresses carried in ID (RFC 7296 3.5) and TS (3.13.1)
 * payloads. The wire model keeps addresses as 4- or 16-octet Buffers (exact, cheap to compare);
 * these functions are the typed accessors and builders on top.
 */
import { isIPv6 } from 'node:net';

/** Dotted quad, or RFC 5952 canonical IPv6 text (lower case, longest zero run as "::"). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) return formatIpv6(bytes);
  throw new RangeError(`an IP address is 4 or 16 octets, not ${bytes.length}`);
}

/**
 * The canonical text of an address (formatIp of its octets), so '2001:db8::1' and
 * '2001:0db8:0:0::1' compare equal; undefined if the text is no address.
 */
export function canonicalIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes === undefined ? undefined : formatIp(bytes);
}

/** Octets of an IPv4 or IPv6 address in text form; undefined if the text is neither. */
export function parseIp(text: string): Buffer | undefined {
  return parseIpv4(text) ?? (isIPv6(text) ? parseIpv6(text) : undefined);
}

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * A dotted quad as node:net's isIPv4 accepts it (four decimal octets 0-255, no leading zeros),
 * read in one pass: the kernel backend turns every SA's and policy's addresses into octets, and
 * the regular expression behind isIPv4 was a tenth of its time.
 */
function parseIpv4(text: string): Buffer | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const octets = Buffer.allocUnsafe(4);
  let index = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || index === 3) return undefined;
      octets[index++] = value;
      value = 0;
      digits = 0;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits > 0 && value === 0) return undefined; // a leading zero
      value = value * 10 + (c - DIGIT_0);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (index !== 3 || digits === 0) return undefined;
  octets[3] = value;
  return octets;
}

function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function parseIpv6(text: string): Buffer {
  // node:net has validated the syntax; only the "::" expansion and an embedded IPv4 tail remain.
  let tail: number[] = [];
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const q = last.split('.').map(Number);
    tail = [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
    s = s.slice(0, lastColon + 1) + '0:0'; // two placeholder groups, replaced below
  }
  const [head, rest] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (rest === undefined) {
    groups = parse(head);
  } else {
    const left = parse(head);
    const right = parse(rest);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length === 2) groups = [...groups.slice(0, 6), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
